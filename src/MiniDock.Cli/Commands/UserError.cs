using Microsoft.Extensions.DependencyInjection;
using MiniDock.Images;
using MiniDock.Images.Content;
using MiniDock.Images.Metadata;
using MiniDock.Registry;

namespace MiniDock.Cli.Commands;

/// <summary>
/// Docker's exit codes for the user CLI: 125 when MiniDock itself fails (bad reference, registry
/// error, corrupt download), with one clear line on stderr and nothing half-written left visible.
/// </summary>
internal static class UserError
{
    public const int Code = 125;

    public static int Guard(Func<ServiceProvider, int> body)
    {
        try
        {
            using var services = Services.Build();
            return body(services);
        }
        catch (Exception e) when (e is ImageException or RegistryException or ReferenceException or ContentException or AmbiguousImageReferenceException
                                      or IOException or InvalidDataException or NotSupportedException or UnauthorizedAccessException or HttpRequestException or SQLite.SQLiteException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine($"Error: {e.Message.Split('\n')[0]}");
            if (Environment.GetEnvironmentVariable("MINIDOCK_DEBUG") is { Length: > 0 })
            {
                Console.Error.WriteLine(e.ToString());
            }

            return Code;
        }
        catch (Containers.Config.ContainerException e)
        {
            Console.Error.WriteLine($"Error: {e.Message.Split('\n')[0]}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is Runtime.RuntimeError or Containers.Rootfs.SnapshotException or Containers.Volumes.VolumeException or Containers.Copy.CopyException
                                      or FormatException or Native.SysException)
        {
            Console.Error.WriteLine($"Error: {e.Message.Split('\n')[0]}");
            if (Environment.GetEnvironmentVariable("MINIDOCK_DEBUG") is { Length: > 0 })
            {
                Console.Error.WriteLine(e.ToString());
            }

            return Code;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("Error: cancelled");
            return 130;
        }
    }

    /// <summary>
    /// Docker's way with several container names (stop, kill, rm): each one on its own, its name printed when done,
    /// a failure reported on its own line without stopping the others, and exit 1 if any failed.
    /// </summary>
    public static int EachName(IEnumerable<string> names, Action<string> act)
    {
        var rc = 0;
        foreach (var name in names)
        {
            try
            {
                act(name);
                Console.WriteLine(name);
            }
            catch (Exception e) when (e is Containers.Config.ContainerException or Runtime.RuntimeError)
            {
                Console.Error.WriteLine($"Error: {e.Message}");
                rc = 1;
            }
        }

        return rc;
    }
}
