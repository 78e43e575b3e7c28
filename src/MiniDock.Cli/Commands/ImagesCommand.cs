using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Cli.Output;
using MiniDock.Images;

namespace MiniDock.Cli.Commands;

/// <summary><c>images [-q] [--digests] [--format json]</c>: REPOSITORY TAG IMAGE ID CREATED SIZE, as Docker prints them.</summary>
internal static class ImagesCommand
{
    public static Command Build(string name = "images")
    {
        var quiet = new Option<bool>("--quiet", "-q") { Description = "only image IDs" };
        var digests = new Option<bool>("--digests") { Description = "show manifest digests" };
        var format = new Option<string?>("--format") { Description = "json: one JSON object per line" };
        var cmd = new Command(name, "List images") { quiet, digests, format };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var list = services.GetRequiredService<ImageService>().List();
            if (p.GetValue(quiet))
            {
                foreach (var id in list.Select(l => ImageService.Short(l.Id)).Distinct())
                {
                    Console.WriteLine(id);
                }
            }
            else if (p.GetValue(format) == "json")
            {
                foreach (var l in list)
                {
                    var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                    using (var w = new Utf8JsonWriter(buffer))
                    {
                        w.WriteStartObject();
                        w.WriteString("Repository", l.Repository);
                        w.WriteString("Tag", l.Tag);
                        w.WriteString("ID", ImageService.Short(l.Id));
                        w.WriteString("Digest", l.ManifestDigest);
                        w.WriteString("CreatedAt", l.Created?.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture) ?? "");
                        w.WriteString("Size", PullPrinter.Human(l.Size));
                        w.WriteEndObject();
                    }

                    Console.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
                }
            }
            else
            {
                var showDigests = p.GetValue(digests);
                Console.WriteLine(showDigests
                    ? $"{"REPOSITORY",-40} {"TAG",-12} {"DIGEST",-72} {"IMAGE ID",-13} {"CREATED",-16} SIZE"
                    : $"{"REPOSITORY",-40} {"TAG",-12} {"IMAGE ID",-13} {"CREATED",-16} SIZE");
                foreach (var l in list)
                {
                    var created = l.Created is { } c ? Ago(c) : "N/A";
                    Console.WriteLine(showDigests
                        ? $"{l.Repository,-40} {l.Tag,-12} {l.ManifestDigest,-72} {ImageService.Short(l.Id),-13} {created,-16} {PullPrinter.Human(l.Size)}"
                        : $"{l.Repository,-40} {l.Tag,-12} {ImageService.Short(l.Id),-13} {created,-16} {PullPrinter.Human(l.Size)}");
                }
            }

            return 0;
        }));
        return cmd;
    }

    private static string Ago(DateTime t)
    {
        var d = DateTime.UtcNow - t.ToUniversalTime();
        return d.TotalMinutes < 1 ? "Less than a minute ago"
            : d.TotalHours < 1 ? $"{(int)d.TotalMinutes} minutes ago"
            : d.TotalDays < 1 ? $"{(int)d.TotalHours} hours ago"
            : d.TotalDays < 60 ? $"{(int)d.TotalDays} days ago"
            : d.TotalDays < 730 ? $"{(int)(d.TotalDays / 30)} months ago"
            : $"{(int)(d.TotalDays / 365)} years ago";
    }
}
