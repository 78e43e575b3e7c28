using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Registry;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>login [-u USER] [-p PASS | --password-stdin] [SERVER]</c> and <c>logout [SERVER]</c>: checked
/// against the registry, then kept in Docker's own config.json, so both tools share them.
/// </summary>
internal static class LoginCommand
{
    public static Command Build()
    {
        var server = new Argument<string?>("server") { Arity = ArgumentArity.ZeroOrOne, Description = "registry host (default docker.io)" };
        var user = new Option<string?>("--username", "-u");
        var password = new Option<string?>("--password", "-p");
        var stdin = new Option<bool>("--password-stdin") { Description = "read the password from stdin" };
        var cmd = new Command("login", "Log in to a registry") { server, user, password, stdin };
        cmd.SetAction((p, ct) => Task.FromResult(UserError.Guard(services =>
        {
            var registry = Host(p.GetValue(server));
            var name = p.GetValue(user) ?? Prompt("Username: ");
            var secret = p.GetValue(stdin) ? Console.In.ReadToEnd().TrimEnd('\n', '\r') : p.GetValue(password) ?? Prompt("Password: ");
            if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(secret))
            {
                throw new Images.ImageException("login needs a username and a password");
            }

            // Check with exactly these credentials before keeping them.
            var http = services.GetRequiredService<IHttpClientFactory>().CreateClient("registry");
            var options = services.GetRequiredService<RegistryOptions>();
            var check = new RegistryClient(http, new RegistryOptions { InsecureRegistries = options.InsecureRegistries, Credentials = new StaticCredentials().Add(registry, name, secret) });
            check.CheckLoginAsync(registry, ct).GetAwaiter().GetResult();
            DockerConfigFile.Store(registry, name, secret);
            Console.WriteLine("Login Succeeded");
            return 0;
        })));
        return cmd;
    }

    public static Command Logout()
    {
        var server = new Argument<string?>("server") { Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("logout", "Log out from a registry") { server };
        cmd.SetAction(p => UserError.Guard(_ =>
        {
            var registry = Host(p.GetValue(server));
            Console.WriteLine(DockerConfigFile.Erase(registry) ? $"Removing login credentials for {DockerConfigFile.Key(registry)}" : $"Not logged in to {DockerConfigFile.Key(registry)}");
            return 0;
        }));
        return cmd;
    }

    private static string Host(string? server)
    {
        if (string.IsNullOrEmpty(server))
        {
            return Reference.DockerHub;
        }

        var s = server.Replace("https://", "").Replace("http://", "").TrimEnd('/');
        return s.Split('/')[0] is "index.docker.io" or "registry-1.docker.io" ? Reference.DockerHub : s.Split('/')[0];
    }

    private static string? Prompt(string what)
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }

        Console.Write(what);
        return Console.ReadLine();
    }
}
