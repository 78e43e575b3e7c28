using System.Text.Json;
using MiniDock.Cli.Output;

namespace MiniDock.Cli.Tests.Output;

public sealed class TemplateTests
{
    private const string Inspect = """
        {
          "Id": "4f1c2a",
          "Name": "/web",
          "State": { "Status": "running", "Pid": 1234, "Running": true, "ExitCode": 0, "Health": null },
          "Config": {
            "Env": ["PATH=/usr/bin", "A=b"],
            "Cmd": ["sh", "-c", "echo hi"],
            "Labels": { "com.example.tier": "web", "b": "2", "a": "1" },
            "Size": 1.5,
            "Html": "<b>&amp;</b>\n\u00e9\u2028"
          },
          "Mounts": [ { "Source": "/data", "RW": true }, { "Source": "/logs", "RW": false } ],
          "Empty": {},
          "None": []
        }
        """;

    private static string R(string format, string json = Inspect)
    {
        using var doc = JsonDocument.Parse(json);
        return Template.Render(format, doc.RootElement);
    }

    [Theory]
    [InlineData("{{.Id}}", "4f1c2a")]
    [InlineData("{{.State.Status}}", "running")]
    [InlineData("{{.State.Pid}}", "1234")]
    [InlineData("{{.State.Running}}", "true")]
    [InlineData("{{.State.ExitCode}}", "0")]
    [InlineData("{{.Config.Size}}", "1.5")]
    [InlineData("pid={{.State.Pid}} name={{.Name}}!", "pid=1234 name=/web!")]
    [InlineData("{{ .Id }}", "4f1c2a")]
    public void Field_paths(string format, string expected) => Assert.Equal(expected, R(format));

    [Theory]
    [InlineData("{{.Missing}}")]
    [InlineData("{{.State.Missing}}")]
    [InlineData("{{.Missing.Deeper.Still}}")]
    [InlineData("{{.State.Health}}")]
    [InlineData("{{.State.Health.Status}}")]
    [InlineData("{{.id}}")] // case-sensitive
    public void Missing_or_null_prints_no_value(string format) => Assert.Equal("<no value>", R(format));

    [Fact]
    public void Field_of_a_non_object_is_an_error()
    {
        var e = Assert.Throws<FormatException>(() => R("{{.Id.X}}"));
        Assert.Equal("template: :1: executing: can't evaluate field X in type string", e.Message);
    }

    [Fact]
    public void Json_function_is_compact_and_like_dockers_encoder()
    {
        Assert.Equal("""{"Status":"running","Pid":1234,"Running":true,"ExitCode":0,"Health":null}""", R("{{json .State}}"));
        Assert.Equal("""["PATH=/usr/bin","A=b"]""", R("{{json .Config.Env}}"));
        Assert.Equal("\"4f1c2a\"", R("{{json .Id}}"));
        Assert.Equal("null", R("{{json .Missing}}"));
        Assert.Equal("{}", R("{{json .Empty}}"));
        // SetEscapeHTML(false): < > & stay; \n escaped; é raw; U+2028 escaped as Go always does.
        Assert.Equal("\"<b>&amp;</b>\\n\u00e9\\u2028\"", R("{{json .Config.Html}}"));
        using var doc = JsonDocument.Parse(R("{{json .}}"));
        Assert.Equal(1234, doc.RootElement.GetProperty("State").GetProperty("Pid").GetInt32());
    }

    [Fact]
    public void Objects_and_arrays_print_like_go_fmt()
    {
        Assert.Equal("[PATH=/usr/bin A=b]", R("{{.Config.Env}}"));
        Assert.Equal("map[a:1 b:2 com.example.tier:web]", R("{{.Config.Labels}}")); // keys sorted
        Assert.Equal("[map[RW:true Source:/data] map[RW:false Source:/logs]]", R("{{.Mounts}}"));
        Assert.Equal("map[ExitCode:0 Health:<nil> Pid:1234 Running:true Status:running]", R("{{.State}}"));
        Assert.Equal("map[]", R("{{.Empty}}"));
        Assert.Equal("[]", R("{{.None}}"));
    }

    [Fact]
    public void Dot_is_the_root()
    {
        Assert.Equal("map[a:[1 2] b:x]", R("{{.}}", """{"b":"x","a":[1,2]}"""));
        Assert.Equal("hello", R("{{.}}", "\"hello\""));
    }

    [Fact]
    public void Literal_text_with_backslash_n_and_t_escapes()
    {
        Assert.Equal("4f1c2a\trunning\n", R(@"{{.Id}}\t{{.State.Status}}\n"));
        Assert.Equal("plain text only", R("plain text only"));
        Assert.Equal("", R(""));
        Assert.Equal("a { b } c", R("a { b } c"));
    }

    [Fact]
    public void Trim_markers_and_comments()
    {
        Assert.Equal("4f1c2a,running", R("{{.Id}},\n  {{- /* a comment */ -}} \n {{.State.Status}}"));
        Assert.Equal("x4f1c2ay", R("x  {{- .Id -}}  y"));
        Assert.Equal("ab", R("a{{/* nothing */}}b"));
    }

    [Fact]
    public void Docker_and_go_functions()
    {
        Assert.Equal("PATH=/usr/bin,A=b", R("{{join .Config.Env \",\"}}"));
        Assert.Equal("RUNNING", R("{{upper .State.Status}}"));
        Assert.Equal("web", R("{{lower \"WEB\"}}"));
        Assert.Equal("Hello World", R("{{title \"hello world\"}}"));
        Assert.Equal("[a b c]", R("{{split \"a:b:c\" \":\"}}"));
        Assert.Equal("4f1", R("{{truncate .Id 3}}"));
        Assert.Equal("  x ", R("{{pad \"x\" 2 1}}"));
        Assert.Equal("web", R("{{index .Config.Labels \"com.example.tier\"}}"));
        Assert.Equal("-c", R("{{index .Config.Cmd 1}}"));
        Assert.Equal("<no value>", R("{{index .Config.Labels \"nope\"}}"));
        Assert.Equal("2 3", R("{{len .Mounts}} {{len .Config.Labels}}"));
        Assert.Equal("a 1 2 b\n", R("{{println \"a\" 1 2 \"b\"}}"));
        Assert.Equal("a1 2b", R("{{print \"a\" 1 2 \"b\"}}"));
    }

    [Fact]
    public void Pipelines_and_parentheses()
    {
        Assert.Equal("RUNNING", R("{{.State.Status | upper}}"));
        Assert.Equal("\"WEB\"", R("{{index .Config.Labels \"com.example.tier\" | upper | json}}"));
        Assert.Equal("3", R("{{len (split \"a b c\" \" \")}}"));
        Assert.Equal("/DATA", R("{{upper (index (index .Mounts 0) \"Source\")}}"));
    }

    [Fact]
    public void String_literal_escapes_are_gos()
    {
        Assert.Equal("a\tb\nA\u00e9", R("{{print \"a\\tb\\n\\x41\\u00e9\"}}"));
        Assert.Equal("raw\\n", R("{{print `raw\\n`}}"));
    }

    [Theory]
    [InlineData("{{.Id", "template: :1: unclosed action")]
    [InlineData("{{.Id}} {{", "template: :1: unclosed action")]
    [InlineData("line1\nline2 {{nosuch .Id}}", "template: :2: function \"nosuch\" not defined")]
    [InlineData("{{if .Id}}x{{end}}", "template: :1: {{if}} is not supported")]
    [InlineData("{{range .Mounts}}{{.Source}}{{end}}", "template: :1: {{range}} is not supported")]
    [InlineData("{{\"open}}", "template: :1: unterminated quoted string")]
    [InlineData("{{}}", "template: :1: missing value for command")]
    [InlineData("{{.Id .Name}}", "template: :1: can't give argument to non-function .Id")]
    [InlineData("{{$x := 1}}", "template: :1: variables are not supported")]
    [InlineData("{{/* open", "template: :1: unclosed comment")]
    [InlineData("{{upper .Id .Name}}", "template: :1: executing: wrong number of args for upper: want 1 got 2")]
    [InlineData("{{upper .State.Pid}}", "template: :1: executing: error calling upper: wrong type for value; expected string; got float64")]
    [InlineData("{{index .Config.Cmd 9}}", "template: :1: executing: error calling index: index out of range: 9")]
    public void Errors_are_one_line_format_exceptions(string format, string message)
    {
        var e = Assert.Throws<FormatException>(() => R(format));
        Assert.Equal(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
