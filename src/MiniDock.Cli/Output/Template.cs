using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MiniDock.Cli.Output;

/// <summary>
/// <c>--format</c> as Docker takes it: the subset of Go's <see href="https://pkg.go.dev/text/template">text/template</see>
/// that people write on a command line, evaluated over the JSON that <c>inspect</c> would print, so the same
/// format strings work with MiniDock and Docker.
/// </summary>
/// <remarks>
/// Supported: literal text (with "\n" and "\t" written as two characters turned into a newline and a tab, as
/// Docker's formatter does); actions <c>{{.}}</c>, <c>{{.A.B}}</c> (case-sensitive; a missing key, or a key of a
/// null, prints <c>&lt;no value&gt;</c> as Go does for maps), function calls with field, string, number and
/// parenthesised arguments, pipelines (<c>{{.Name | upper}}</c>), <c>{{- </c>/<c> -}}</c> trimming and comments.
/// Functions: Docker's <c>json join split lower upper title pad truncate</c> and Go's <c>index len print println</c>.
/// Values print as Go's fmt prints what encoding/json decodes into <c>interface{}</c> (objects as
/// <c>map[k:v]</c> with sorted keys, arrays as <c>[a b]</c>), except numbers, which print as written in the JSON:
/// Docker's own fields are typed integers (<c>{{.State.Pid}}</c> is 1234, never Go's float64 1.234e+03).
/// Not supported (a <see cref="FormatException"/>): <c>if range with define template block</c>, variables.
/// </remarks>
public static class Template
{
    /// <summary>Renders <paramref name="format"/> over <paramref name="root"/> (the "." of the template).</summary>
    /// <exception cref="FormatException">The template does not parse, names an unknown function, or cannot be
    /// evaluated (a field of a string); the message is one line in Go's wording: <c>template: :1: …</c>.</exception>
    public static string Render(string format, JsonElement root)
    {
        ArgumentNullException.ThrowIfNull(format);
        var nodes = Parser.Parse(format);
        var sb = new StringBuilder();
        foreach (var node in nodes)
        {
            if (node.Text is { } text)
            {
                sb.Append(text);
            }
            else
            {
                var v = new Evaluator(root, node.Line).Pipeline(node.Pipeline!);
                GoFmt.Print(sb, v, nested: false);
            }
        }

        return sb.ToString();
    }

    // ---- values ---------------------------------------------------------------------------------------------

    private enum Kind
    {
        Missing,
        Json,
        Str,
        Int,
        Bool,
        List,
    }

    /// <summary>A template value: a JSON element, or what a function made of one. Missing is Go's invalid reflect.Value.</summary>
    private readonly record struct Value(Kind Kind, JsonElement Json = default, string? Str = null, long Int = 0, bool Bool = false, IReadOnlyList<Value>? List = null)
    {
        public static Value Missing => new(Kind.Missing);

        public static Value Of(JsonElement e) => e.ValueKind == JsonValueKind.Undefined ? Missing : new(Kind.Json, Json: e);

        public static Value Of(string s) => new(Kind.Str, Str: s);

        public static Value Of(long n) => new(Kind.Int, Int: n);

        public static Value Of(bool b) => new(Kind.Bool, Bool: b);

        public static Value Of(IReadOnlyList<Value> list) => new(Kind.List, List: list);

        /// <summary>Go's name for the type, for error messages.</summary>
        public string TypeName => Kind switch
        {
            Kind.Missing => "<nil>",
            Kind.Str => "string",
            Kind.Int => "int",
            Kind.Bool => "bool",
            Kind.List => "[]string",
            _ => Json.ValueKind switch
            {
                JsonValueKind.Object => "map[string]interface {}",
                JsonValueKind.Array => "[]interface {}",
                JsonValueKind.String => "string",
                JsonValueKind.Number => "float64",
                JsonValueKind.True or JsonValueKind.False => "bool",
                _ => "<nil>",
            },
        };
    }

    // ---- syntax ---------------------------------------------------------------------------------------------

    /// <summary>A piece of the template: literal text, or an action's pipeline with the line it starts on.</summary>
    private sealed record Node(string? Text, IReadOnlyList<Command>? Pipeline, int Line);

    /// <summary>One command of a pipeline: a function and its arguments, or a single operand.</summary>
    private sealed record Command(string? Function, IReadOnlyList<Operand> Args);

    private enum OperandKind
    {
        Field,
        String,
        Number,
        Bool,
        Pipeline,
        Function,
    }

    /// <summary>
    /// An argument: a field chain (".A.B"; "." alone is an empty chain), a literal, a parenthesised pipeline, or a
    /// function named without arguments.
    /// </summary>
    private sealed record Operand(OperandKind Kind, IReadOnlyList<string>? Fields = null, string? Text = null, long Number = 0, bool Bool = false, IReadOnlyList<Command>? Pipeline = null);

    private static readonly HashSet<string> Functions =
        ["json", "join", "split", "lower", "upper", "title", "pad", "truncate", "index", "len", "print", "println"];

    private static readonly HashSet<string> Keywords =
        ["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue", "nil"];

    /// <summary>Go text/template's lexer and parser, cut down to <see cref="Template"/>'s subset.</summary>
    private sealed class Parser
    {
        private readonly string _s;
        private int _pos;
        private int _line = 1;

        private Parser(string s) => _s = s;

        public static List<Node> Parse(string format)
        {
            var p = new Parser(format);
            var nodes = new List<Node>();
            var trimNext = false;
            while (p._pos < p._s.Length)
            {
                var open = p._s.IndexOf("{{", p._pos, StringComparison.Ordinal);
                var textEnd = open < 0 ? p._s.Length : open;
                var text = p._s[p._pos..textEnd];
                var actionLine = p._line + Count(text, '\n');
                var trimLeft = open >= 0 && IsLeftTrim(p._s, open + 2);
                if (trimNext)
                {
                    text = text.TrimStart(' ', '\t', '\r', '\n');
                }

                if (trimLeft)
                {
                    text = text.TrimEnd(' ', '\t', '\r', '\n');
                }

                if (text.Length > 0)
                {
                    nodes.Add(new Node(Unescape(text), null, 0));
                }

                if (open < 0)
                {
                    break;
                }

                p._line = actionLine;
                p._pos = open + 2 + (trimLeft ? 2 : 0);
                var (pipeline, trimRight) = p.Action();
                trimNext = trimRight;
                if (pipeline is not null)
                {
                    nodes.Add(new Node(null, pipeline, actionLine));
                }
            }

            return nodes;
        }

        /// <summary>"{{- ": a dash with white space after it (Go: "{{-3}}" is the number -3).</summary>
        private static bool IsLeftTrim(string s, int at) => at + 1 < s.Length && s[at] == '-' && IsSpace(s[at + 1]);

        /// <summary>"\n" and "\t" typed as two characters (a shell passes them so) become the characters.</summary>
        private static string Unescape(string text) => text.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\t", "\t", StringComparison.Ordinal);

        private static int Count(string s, char c)
        {
            var n = 0;
            foreach (var ch in s)
            {
                if (ch == c)
                {
                    n++;
                }
            }

            return n;
        }

        private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

        private FormatException Error(string message) => new($"template: :{_line}: {message}");

        /// <summary>Parses from just after "{{" through "}}"; a comment yields no pipeline.</summary>
        private (List<Command>? Pipeline, bool TrimRight) Action()
        {
            SkipSpace();
            if (_s.AsSpan(_pos).StartsWith("/*"))
            {
                var close = _s.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
                if (close < 0)
                {
                    throw Error("unclosed comment");
                }

                _line += Count(_s[_pos..close], '\n');
                _pos = close + 2;
                var trim = AtRightTrim();
                if (trim)
                {
                    _pos += 2;
                }
                else
                {
                    SkipSpace();
                }

                if (!_s.AsSpan(_pos).StartsWith("}}"))
                {
                    throw Error("comment ends before closing delimiter");
                }

                _pos += 2;
                return (null, trim);
            }

            var pipeline = Pipeline(inParens: false);
            var trimRight = AtRightTrim();
            if (trimRight)
            {
                _pos += 2;
            }

            if (!_s.AsSpan(_pos).StartsWith("}}"))
            {
                throw _pos >= _s.Length ? Error("unclosed action") : Error($"unexpected \"{_s[_pos]}\" in command");
            }

            _pos += 2;
            return (pipeline, trimRight);
        }

        /// <summary>" -}}": white space, a dash, the closing delimiter.</summary>
        private bool AtRightTrim() => _pos + 1 < _s.Length && IsSpace(_s[_pos]) && _s[_pos + 1] == '-' && _s.AsSpan(_pos + 2).StartsWith("}}");

        private List<Command> Pipeline(bool inParens)
        {
            var commands = new List<Command>();
            while (true)
            {
                commands.Add(CommandAt(inParens));
                SkipSpace();
                if (_pos < _s.Length && _s[_pos] == '|')
                {
                    _pos++;
                    continue;
                }

                return commands;
            }
        }

        private Command CommandAt(bool inParens)
        {
            var operands = new List<Operand>();
            while (true)
            {
                SkipSpace();
                if (_pos >= _s.Length)
                {
                    throw Error(inParens ? "unclosed left paren" : "unclosed action");
                }

                var c = _s[_pos];
                if (c == '|' || (c == ')' && inParens) || AtRightTrim() || _s.AsSpan(_pos).StartsWith("}}"))
                {
                    break;
                }

                operands.Add(OperandAt());
            }

            if (operands.Count == 0)
            {
                throw Error("missing value for command");
            }

            if (operands[0].Kind == OperandKind.Function)
            {
                return new Command(operands[0].Text, operands.Skip(1).ToList());
            }

            if (operands.Count > 1)
            {
                throw Error($"can't give argument to non-function {Describe(operands[0])}");
            }

            return new Command(null, operands);
        }

        private Operand OperandAt()
        {
            var c = _s[_pos];
            if (c == '.')
            {
                return new Operand(OperandKind.Field, Fields: FieldChain());
            }

            if (c == '"' || c == '`')
            {
                return new Operand(OperandKind.String, Text: c == '"' ? Quoted() : Raw());
            }

            if (c == '(')
            {
                _pos++;
                var inner = Pipeline(inParens: true);
                SkipSpace();
                if (_pos >= _s.Length || _s[_pos] != ')')
                {
                    throw Error("unclosed left paren");
                }

                _pos++;
                if (_pos < _s.Length && _s[_pos] == '.')
                {
                    throw Error("field access on a parenthesised value is not supported");
                }

                return new Operand(OperandKind.Pipeline, Pipeline: inner);
            }

            if (char.IsAsciiDigit(c) || ((c == '-' || c == '+') && _pos + 1 < _s.Length && char.IsAsciiDigit(_s[_pos + 1])))
            {
                var start = _pos++;
                while (_pos < _s.Length && char.IsAsciiDigit(_s[_pos]))
                {
                    _pos++;
                }

                if (!long.TryParse(_s.AsSpan(start, _pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                {
                    throw Error($"bad number syntax: \"{_s[start.._pos]}\"");
                }

                return new Operand(OperandKind.Number, Number: n);
            }

            if (char.IsLetter(c) || c == '_')
            {
                var start = _pos;
                while (_pos < _s.Length && (char.IsLetterOrDigit(_s[_pos]) || _s[_pos] == '_'))
                {
                    _pos++;
                }

                var word = _s[start.._pos];
                if (word is "true" or "false")
                {
                    return new Operand(OperandKind.Bool, Bool: word == "true");
                }

                if (Keywords.Contains(word))
                {
                    throw Error($"{{{{{word}}}}} is not supported");
                }

                if (!Functions.Contains(word))
                {
                    throw Error($"function \"{word}\" not defined");
                }

                return new Operand(OperandKind.Function, Text: word);
            }

            if (c == '$')
            {
                throw Error("variables are not supported");
            }

            throw Error($"unexpected \"{c}\" in operand");
        }

        /// <summary>".A.B" → [A, B]; "." → [].</summary>
        private List<string> FieldChain()
        {
            var fields = new List<string>();
            _pos++; // the first '.'
            while (true)
            {
                var start = _pos;
                while (_pos < _s.Length && (char.IsLetterOrDigit(_s[_pos]) || _s[_pos] == '_'))
                {
                    _pos++;
                }

                if (_pos == start)
                {
                    if (fields.Count > 0)
                    {
                        throw Error("bad field name");
                    }

                    break; // "." alone
                }

                fields.Add(_s[start.._pos]);
                if (_pos < _s.Length && _s[_pos] == '.')
                {
                    _pos++;
                    continue;
                }

                break;
            }

            if (_pos < _s.Length && !IsSpace(_s[_pos]) && _s[_pos] is not ('}' or '|' or ')'))
            {
                throw Error($"unexpected \"{_s[_pos]}\" in operand");
            }

            return fields;
        }

        /// <summary>A Go interpreted string literal ("a\tb", "\u00e9", "\x41").</summary>
        private string Quoted()
        {
            var sb = new StringBuilder();
            _pos++;
            while (true)
            {
                if (_pos >= _s.Length || _s[_pos] == '\n')
                {
                    throw Error("unterminated quoted string");
                }

                var c = _s[_pos++];
                if (c == '"')
                {
                    return sb.ToString();
                }

                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }

                if (_pos >= _s.Length)
                {
                    throw Error("unterminated quoted string");
                }

                var e = _s[_pos++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'a': sb.Append('\a'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'v': sb.Append('\v'); break;
                    case '\\': sb.Append('\\'); break;
                    case '"': sb.Append('"'); break;
                    case '\'': sb.Append('\''); break;
                    case 'x': sb.Append((char)HexDigits(2)); break;
                    case 'u': sb.Append(char.ConvertFromUtf32(HexDigits(4))); break;
                    case 'U': sb.Append(char.ConvertFromUtf32(HexDigits(8))); break;
                    default: throw Error($"invalid syntax: unknown escape sequence \\{e}");
                }
            }
        }

        private int HexDigits(int n)
        {
            if (_pos + n > _s.Length || !int.TryParse(_s.AsSpan(_pos, n), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v)
                || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            {
                throw Error("invalid syntax: bad escape in quoted string");
            }

            _pos += n;
            return v;
        }

        /// <summary>A Go raw string literal: everything up to the next backquote, newlines included.</summary>
        private string Raw()
        {
            var close = _s.IndexOf('`', _pos + 1);
            if (close < 0)
            {
                throw Error("unterminated raw quoted string");
            }

            var text = _s[(_pos + 1)..close];
            _line += Count(text, '\n');
            _pos = close + 1;
            return text;
        }

        private void SkipSpace()
        {
            while (_pos < _s.Length && IsSpace(_s[_pos]) && !AtRightTrim())
            {
                if (_s[_pos] == '\n')
                {
                    _line++;
                }

                _pos++;
            }
        }

        private static string Describe(Operand o) => o.Kind switch
        {
            OperandKind.Field => "." + string.Join('.', o.Fields!),
            OperandKind.String => $"\"{o.Text}\"",
            OperandKind.Number => o.Number.ToString(CultureInfo.InvariantCulture),
            OperandKind.Bool => o.Bool ? "true" : "false",
            _ => "(pipeline)",
        };
    }

    // ---- evaluation -----------------------------------------------------------------------------------------

    private sealed class Evaluator(JsonElement dot, int line)
    {
        private FormatException Error(string message) => new($"template: :{line}: executing: {message}");

        public Value Pipeline(IReadOnlyList<Command> commands)
        {
            Value? previous = null;
            foreach (var c in commands)
            {
                previous = Run(c, previous);
            }

            return previous!.Value;
        }

        /// <summary>One command; in a pipeline the previous result is passed as the last argument (Go's rule).</summary>
        private Value Run(Command c, Value? piped)
        {
            if (c.Function is null)
            {
                if (piped is not null)
                {
                    throw Error("can't give argument to non-function");
                }

                return Operand(c.Args[0]);
            }

            var args = c.Args.Select(Operand).ToList();
            if (piped is { } p)
            {
                args.Add(p);
            }

            return Call(c.Function, args);
        }

        private Value Operand(Operand o) => o.Kind switch
        {
            OperandKind.Field => Field(o.Fields!),
            OperandKind.String => Value.Of(o.Text!),
            OperandKind.Number => Value.Of(o.Number),
            OperandKind.Bool => Value.Of(o.Bool),
            OperandKind.Pipeline => Pipeline(o.Pipeline!),
            _ => Call(o.Text!, []),
        };

        /// <summary>
        /// Go's field lookup on a map: a missing key, or any key of a missing/null value, gives the zero value
        /// (printed "&lt;no value&gt;"); a key of anything but a map is an error.
        /// </summary>
        private Value Field(IReadOnlyList<string> fields)
        {
            var v = Value.Of(dot);
            foreach (var f in fields)
            {
                if (v.Kind == Kind.Missing || (v.Kind == Kind.Json && v.Json.ValueKind == JsonValueKind.Null))
                {
                    v = Value.Missing;
                    continue;
                }

                if (v.Kind != Kind.Json || v.Json.ValueKind != JsonValueKind.Object)
                {
                    throw Error($"can't evaluate field {f} in type {v.TypeName}");
                }

                v = v.Json.TryGetProperty(f, out var child) ? Value.Of(child) : Value.Missing;
            }

            return v;
        }

        private Value Call(string name, List<Value> args)
        {
            switch (name)
            {
                case "json":
                    Arity(name, args, 1);
                    return Value.Of(GoJson.Marshal(args[0]));
                case "join":
                    Arity(name, args, 2);
                    return Value.Of(string.Join(Str(name, args[1]), Items(name, args[0]).Select(GoFmt.ToText)));
                case "split":
                    Arity(name, args, 2);
                    return Value.Of(Str(name, args[0]).Split(Str(name, args[1])).Select(Value.Of).ToList());
                case "lower":
                    Arity(name, args, 1);
                    return Value.Of(Str(name, args[0]).ToLowerInvariant());
                case "upper":
                    Arity(name, args, 1);
                    return Value.Of(Str(name, args[0]).ToUpperInvariant());
                case "title":
                    Arity(name, args, 1);
                    return Value.Of(Title(Str(name, args[0])));
                case "pad":
                    Arity(name, args, 3);
                    return Value.Of(new string(' ', (int)Math.Max(0, Int(name, args[1]))) + Str(name, args[0]) + new string(' ', (int)Math.Max(0, Int(name, args[2]))));
                case "truncate":
                    {
                        Arity(name, args, 2);
                        var s = Str(name, args[0]);
                        var n = (int)Math.Max(0, Int(name, args[1]));
                        return Value.Of(s.Length <= n ? s : s[..n]);
                    }

                case "index":
                    if (args.Count < 1)
                    {
                        throw Error("wrong number of args for index: want at least 1 got 0");
                    }

                    return Index(args[0], args.Skip(1));
                case "len":
                    Arity(name, args, 1);
                    return Value.Of(Len(args[0]));
                case "print":
                    return Value.Of(GoFmt.Sprint(args, line: false));
                case "println":
                    return Value.Of(GoFmt.Sprint(args, line: true));
                default:
                    throw Error($"function \"{name}\" not defined");
            }
        }

        private void Arity(string name, List<Value> args, int want)
        {
            if (args.Count != want)
            {
                throw Error($"wrong number of args for {name}: want {want} got {args.Count}");
            }
        }

        private string Str(string fn, Value v) => v.Kind switch
        {
            Kind.Str => v.Str!,
            Kind.Json when v.Json.ValueKind == JsonValueKind.String => v.Json.GetString()!,
            _ => throw Error($"error calling {fn}: wrong type for value; expected string; got {v.TypeName}"),
        };

        private long Int(string fn, Value v)
        {
            if (v.Kind == Kind.Int)
            {
                return v.Int;
            }

            if (v.Kind == Kind.Json && v.Json.ValueKind == JsonValueKind.Number && v.Json.TryGetInt64(out var n))
            {
                return n;
            }

            throw Error($"error calling {fn}: wrong type for value; expected int; got {v.TypeName}");
        }

        private IEnumerable<Value> Items(string fn, Value v) => v.Kind switch
        {
            Kind.List => v.List!,
            Kind.Json when v.Json.ValueKind == JsonValueKind.Array => v.Json.EnumerateArray().Select(Value.Of),
            _ => throw Error($"error calling {fn}: wrong type for value; expected []string; got {v.TypeName}"),
        };

        private Value Index(Value v, IEnumerable<Value> keys)
        {
            foreach (var k in keys)
            {
                if (v.Kind == Kind.Missing || (v.Kind == Kind.Json && v.Json.ValueKind == JsonValueKind.Null))
                {
                    throw Error("error calling index: index of untyped nil");
                }

                if (v.Kind == Kind.Json && v.Json.ValueKind == JsonValueKind.Object)
                {
                    v = v.Json.TryGetProperty(Str("index", k), out var child) ? Value.Of(child) : Value.Missing;
                    continue;
                }

                var items = v.Kind == Kind.List || (v.Kind == Kind.Json && v.Json.ValueKind == JsonValueKind.Array)
                    ? Items("index", v).ToList()
                    : throw Error($"error calling index: can't index item of type {v.TypeName}");
                var i = Int("index", k);
                if (i < 0 || i >= items.Count)
                {
                    throw Error($"error calling index: index out of range: {i}");
                }

                v = items[(int)i];
            }

            return v;
        }

        private long Len(Value v) => v.Kind switch
        {
            Kind.Str => Encoding.UTF8.GetByteCount(v.Str!),
            Kind.List => v.List!.Count,
            Kind.Json => v.Json.ValueKind switch
            {
                JsonValueKind.Array => v.Json.GetArrayLength(),
                JsonValueKind.Object => v.Json.EnumerateObject().Count(),
                JsonValueKind.String => Encoding.UTF8.GetByteCount(v.Json.GetString()!),
                _ => throw Error($"error calling len: len of type {v.TypeName}"),
            },
            _ => throw Error($"error calling len: len of type {v.TypeName}"),
        };

        /// <summary>Go's strings.Title: the first letter of each word upper-cased, words split at non-letters.</summary>
        private static string Title(string s)
        {
            var chars = s.ToCharArray();
            var prevLetter = false;
            for (var i = 0; i < chars.Length; i++)
            {
                var letter = char.IsLetterOrDigit(chars[i]) || chars[i] == '_' || chars[i] == '\'';
                if (letter && !prevLetter)
                {
                    chars[i] = char.ToUpperInvariant(chars[i]);
                }

                prevLetter = letter;
            }

            return new string(chars);
        }
    }

    // ---- printing -------------------------------------------------------------------------------------------

    /// <summary>Go's fmt %v of the values encoding/json produces (map[string]interface{}, []interface{}, …).</summary>
    private static class GoFmt
    {
        public static void Print(StringBuilder sb, Value v, bool nested)
        {
            switch (v.Kind)
            {
                case Kind.Missing:
                    sb.Append(nested ? "<nil>" : "<no value>");
                    return;
                case Kind.Str:
                    sb.Append(v.Str);
                    return;
                case Kind.Int:
                    sb.Append(v.Int.ToString(CultureInfo.InvariantCulture));
                    return;
                case Kind.Bool:
                    sb.Append(v.Bool ? "true" : "false");
                    return;
                case Kind.List:
                    sb.Append('[');
                    for (var i = 0; i < v.List!.Count; i++)
                    {
                        if (i > 0)
                        {
                            sb.Append(' ');
                        }

                        Print(sb, v.List[i], nested: true);
                    }

                    sb.Append(']');
                    return;
            }

            var e = v.Json;
            switch (e.ValueKind)
            {
                case JsonValueKind.String:
                    sb.Append(e.GetString());
                    break;
                case JsonValueKind.Number:
                    sb.Append(e.GetRawText());
                    break;
                case JsonValueKind.True:
                    sb.Append("true");
                    break;
                case JsonValueKind.False:
                    sb.Append("false");
                    break;
                case JsonValueKind.Null:
                    // A null at the top is Go's nil interface, which text/template prints as "<no value>".
                    sb.Append(nested ? "<nil>" : "<no value>");
                    break;
                case JsonValueKind.Array:
                    {
                        sb.Append('[');
                        var first = true;
                        foreach (var item in e.EnumerateArray())
                        {
                            if (!first)
                            {
                                sb.Append(' ');
                            }

                            first = false;
                            Print(sb, Value.Of(item), nested: true);
                        }

                        sb.Append(']');
                        break;
                    }

                case JsonValueKind.Object:
                    {
                        // fmt prints maps with their keys sorted.
                        sb.Append("map[");
                        var first = true;
                        foreach (var p in e.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                        {
                            if (!first)
                            {
                                sb.Append(' ');
                            }

                            first = false;
                            sb.Append(p.Name).Append(':');
                            Print(sb, Value.Of(p.Value), nested: true);
                        }

                        sb.Append(']');
                        break;
                    }
            }
        }

        public static string ToText(Value v)
        {
            var sb = new StringBuilder();
            Print(sb, v, nested: true);
            return sb.ToString();
        }

        /// <summary>fmt.Sprint (a space between two operands when neither is a string) or fmt.Sprintln (always, and a newline).</summary>
        public static string Sprint(List<Value> args, bool line)
        {
            var sb = new StringBuilder();
            for (var i = 0; i < args.Count; i++)
            {
                if (i > 0 && (line || (!IsString(args[i - 1]) && !IsString(args[i]))))
                {
                    sb.Append(' ');
                }

                Print(sb, args[i], nested: true);
            }

            if (line)
            {
                sb.Append('\n');
            }

            return sb.ToString();
        }

        private static bool IsString(Value v) => v.Kind == Kind.Str || (v.Kind == Kind.Json && v.Json.ValueKind == JsonValueKind.String);
    }

    /// <summary>
    /// Docker's <c>json</c> template function: Go's json.Encoder with SetEscapeHTML(false), compact. Strings are
    /// re-escaped as Go does (\n \r \t \b \f short, other controls \u00XX, U+2028/2029 escaped, &lt; &gt; &amp; kept);
    /// numbers are kept as written; keys keep their document order (the JSON came from a struct, whose order Go keeps).
    /// </summary>
    private static class GoJson
    {
        public static string Marshal(Value v)
        {
            var sb = new StringBuilder();
            Write(sb, v);
            return sb.ToString();
        }

        private static void Write(StringBuilder sb, Value v)
        {
            switch (v.Kind)
            {
                case Kind.Missing:
                    sb.Append("null");
                    return;
                case Kind.Str:
                    WriteString(sb, v.Str!);
                    return;
                case Kind.Int:
                    sb.Append(v.Int.ToString(CultureInfo.InvariantCulture));
                    return;
                case Kind.Bool:
                    sb.Append(v.Bool ? "true" : "false");
                    return;
                case Kind.List:
                    sb.Append('[');
                    for (var i = 0; i < v.List!.Count; i++)
                    {
                        if (i > 0)
                        {
                            sb.Append(',');
                        }

                        Write(sb, v.List[i]);
                    }

                    sb.Append(']');
                    return;
            }

            var e = v.Json;
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    {
                        sb.Append('{');
                        var first = true;
                        foreach (var p in e.EnumerateObject())
                        {
                            if (!first)
                            {
                                sb.Append(',');
                            }

                            first = false;
                            WriteString(sb, p.Name);
                            sb.Append(':');
                            Write(sb, Value.Of(p.Value));
                        }

                        sb.Append('}');
                        break;
                    }

                case JsonValueKind.Array:
                    {
                        sb.Append('[');
                        var first = true;
                        foreach (var item in e.EnumerateArray())
                        {
                            if (!first)
                            {
                                sb.Append(',');
                            }

                            first = false;
                            Write(sb, Value.Of(item));
                        }

                        sb.Append(']');
                        break;
                    }

                case JsonValueKind.String:
                    WriteString(sb, e.GetString()!);
                    break;
                default:
                    sb.Append(e.GetRawText()); // numbers as written; true, false, null
                    break;
            }
        }

        private static void WriteString(StringBuilder sb, string s)
        {
            sb.Append('"');
            for (var i = 0; i < s.Length; i++)
            {
                var c = s[i];
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    case '\u2028': sb.Append("\\u2028"); break;
                    case '\u2029': sb.Append("\\u2029"); break;
                    default:
                        if (c < 0x20)
                        {
                            sb.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                        }
                        else if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])))
                        {
                            sb.Append('\uFFFD'); // Go's decoder already turned a lone surrogate into U+FFFD
                        }
                        else if (char.IsHighSurrogate(c))
                        {
                            sb.Append(c).Append(s[++i]);
                        }
                        else
                        {
                            sb.Append(c);
                        }

                        break;
                }
            }

            sb.Append('"');
        }
    }
}
