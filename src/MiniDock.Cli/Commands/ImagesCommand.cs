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
                var rows = list.Select(l =>
                {
                    var created = l.Created is { } c ? ContainerViews.HumanDuration(DateTime.UtcNow - c.ToUniversalTime()) + " ago" : "N/A";
                    return (IReadOnlyList<string>)(showDigests
                        ? [l.Repository, l.Tag, l.ManifestDigest, ImageService.Short(l.Id), created, PullPrinter.Human(l.Size)]
                        : [l.Repository, l.Tag, ImageService.Short(l.Id), created, PullPrinter.Human(l.Size)]);
                }).ToList();
                Console.Write(Table.Render(showDigests ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"] : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows));
            }

            return 0;
        }));
        return cmd;
    }
}
