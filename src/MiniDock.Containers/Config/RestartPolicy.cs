using System.Globalization;

namespace MiniDock.Containers.Config;

/// <summary>
/// <c>--restart</c>, checked as Docker checks it (opts.ParseRestartPolicy and the daemon's validation,
/// https://docs.docker.com/engine/containers/start-containers-automatically/): <c>no</c>, <c>always</c>,
/// <c>unless-stopped</c>, <c>on-failure[:N]</c>; a retry count only with on-failure.
/// </summary>
/// <param name="Name">no, always, unless-stopped or on-failure.</param>
/// <param name="MaxRetries">on-failure's N; 0: no limit.</param>
public sealed record RestartPolicy(string Name, int MaxRetries)
{
    public static RestartPolicy Parse(string? text)
    {
        var s = text ?? "";
        var colon = s.IndexOf(':');
        var name = colon < 0 ? s : s[..colon];
        var count = 0;
        if (colon == 0)
        {
            throw new ContainerException("invalid restart policy format: no policy provided before colon");
        }

        if (colon > 0 && !int.TryParse(s[(colon + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out count))
        {
            throw new ContainerException("invalid restart policy format: maximum retry count must be an integer");
        }

        name = name.Length == 0 ? "no" : name;
        if (name is not ("no" or "always" or "unless-stopped" or "on-failure"))
        {
            throw new ContainerException($"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
        }

        if (count < 0)
        {
            throw new ContainerException("invalid restart policy: maximum retry count cannot be negative");
        }

        if (colon > 0 && name != "on-failure")
        {
            throw new ContainerException($"invalid restart policy: maximum retry count can only be used with 'on-failure'");
        }

        return new RestartPolicy(name, count);
    }
}
