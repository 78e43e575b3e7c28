using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MiniDock.Containers.Config;

namespace MiniDock.Containers.Networks.Cni;

/// <summary>
/// Runs one CNI plugin as the spec says (https://github.com/containernetworking/cni/blob/main/SPEC.md, section
/// "Execution Protocol"): the operation and its parameters in CNI_* environment variables, the network
/// configuration on stdin, the result (or an error object) on stdout.
/// </summary>
public static class CniInvoker
{
    public const string Version = "1.0.0";

    /// <summary>
    /// ADD, DEL or CHECK for one plugin configuration (already holding name, cniVersion, prevResult and
    /// runtimeConfig). Returns the plugin's result for ADD; null for DEL and CHECK.
    /// </summary>
    public static JsonObject? Invoke(string command, JsonObject config, string containerId, string netns, string ifName)
    {
        var type = (string?)config["type"] ?? throw new ContainerException("CNI config without a type");
        var psi = new ProcessStartInfo(CniPlugins.Find(type))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["CNI_COMMAND"] = command;
        psi.Environment["CNI_CONTAINERID"] = containerId;
        psi.Environment["CNI_NETNS"] = netns;
        psi.Environment["CNI_IFNAME"] = ifName;
        psi.Environment["CNI_PATH"] = string.Join(':', CniPlugins.Dirs());
        psi.Environment.Remove("CNI_ARGS");

        // The plugins run iptables (and the IPAM plugin) by PATH: a caller's PATH without the sbin dirs (a non-login
        // root shell on Debian) must not make NAT fail.
        psi.Environment["PATH"] = (Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } path ? path + ":" : "") + "/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin";

        using var p = Process.Start(psi) ?? throw new ContainerException($"cannot start CNI plugin {type}");
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(config.ToJsonString());
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var errText = stderr.GetAwaiter().GetResult().Trim();
        if (p.ExitCode != 0)
        {
            throw new ContainerException($"network {(string?)config["name"]}: CNI {type} {command}: {ErrorText(stdout, errText, p.ExitCode)}");
        }

        if (command != "ADD")
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(stdout) as JsonObject ?? throw new ContainerException($"CNI {type} ADD printed no result object");
        }
        catch (JsonException e)
        {
            throw new ContainerException($"CNI {type} ADD printed a result that is not JSON: {e.Message}");
        }
    }

    /// <summary>The spec's error object: <c>{"code":N,"msg":"...","details":"..."}</c>, as one line.</summary>
    internal static string ErrorText(string stdout, string stderr, int exitCode)
    {
        try
        {
            if (JsonNode.Parse(stdout) is JsonObject e && (string?)e["msg"] is { } msg)
            {
                return (string?)e["details"] is { Length: > 0 } d ? $"{msg}: {d}" : msg;
            }
        }
        catch (JsonException)
        {
        }

        var text = stderr.Length > 0 ? stderr : stdout.Trim();
        return text.Length > 0 ? text.ReplaceLineEndings(" ") : $"exit status {exitCode}";
    }
}
