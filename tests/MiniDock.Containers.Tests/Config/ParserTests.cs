using MiniDock.Containers.Config;

namespace MiniDock.Containers.Tests.Config;

/// <summary>The small parsers the CLI calls: each error is one clear line.</summary>
public sealed class ParserTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("10", 10L)]
    [InlineData("10b", 10L)]
    [InlineData("10B", 10L)]
    [InlineData("1k", 1024L)]
    [InlineData("1kb", 1024L)]
    [InlineData("1KiB", 1024L)]
    [InlineData("512m", 512L << 20)]
    [InlineData("512MB", 512L << 20)]
    [InlineData("512 m", 512L << 20)]
    [InlineData("2g", 2L << 30)]
    [InlineData("2GB", 2L << 30)]
    [InlineData("1.5g", 3L << 29)]
    [InlineData("1t", 1L << 40)]
    [InlineData("1p", 1L << 50)]
    public void Bytes_parse_like_docker_ram_in_bytes(string text, long expected) => Assert.Equal(expected, Units.ParseBytes(text));

    [Theory]
    [InlineData("", "invalid size: ''")]
    [InlineData("m", "invalid size: 'm'")]
    [InlineData("-1m", "invalid size: '-1m'")]
    [InlineData("12x", "invalid suffix: 'x'")]
    [InlineData("12mm", "invalid suffix: 'mm'")]
    [InlineData("12bb", "invalid suffix: 'bb'")]
    [InlineData("12mib2", "invalid size: '12mib2'")]
    [InlineData("1.2.3m", "invalid size: '1.2.3m'")]
    [InlineData("99999999p", "invalid size: '99999999p' (too large)")]
    public void Bad_sizes_are_errors(string text, string message) => Assert.Equal(message, Assert.Throws<ContainerException>(() => Units.ParseBytes(text)).Message);

    [Theory]
    [InlineData("nofile=1024", "nofile", 1024UL, 1024UL)]
    [InlineData("nofile=1024:2048", "nofile", 1024UL, 2048UL)]
    [InlineData("core=0", "core", 0UL, 0UL)]
    [InlineData("memlock=-1", "memlock", ulong.MaxValue, ulong.MaxValue)]
    [InlineData("memlock=1024:unlimited", "memlock", 1024UL, ulong.MaxValue)]
    [InlineData("rttime=5:10", "rttime", 5UL, 10UL)]
    public void Ulimits_parse(string text, string name, ulong soft, ulong hard) => Assert.Equal((name, soft, hard), Ulimit.Parse(text));

    [Theory]
    [InlineData("nofile", "invalid ulimit argument: nofile")]
    [InlineData("bogus=1", "invalid ulimit type: bogus")]
    [InlineData("as=1", "invalid ulimit type: as")]
    [InlineData("nofile=2048:1024", "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024")]
    [InlineData("nofile=-1:1024", "ulimit soft limit must be less than or equal to hard limit: -1 (unlimited) > 1024")]
    [InlineData("nofile=1:2:3", "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`")]
    [InlineData("nofile=abc", "invalid ulimit argument: nofile=abc: invalid limit abc")]
    [InlineData("nofile=", "invalid ulimit argument: nofile=: empty limit")]
    public void Bad_ulimits_are_errors(string text, string message) => Assert.Equal(message, Assert.Throws<ContainerException>(() => Ulimit.Parse(text)).Message);

    [Theory]
    [InlineData("/ctr", VolumeKind.Anonymous, "", "/ctr", false)]
    [InlineData("/ctr/", VolumeKind.Anonymous, "", "/ctr", false)]
    [InlineData("/h:/c", VolumeKind.Bind, "/h", "/c", false)]
    [InlineData("/h/./x/:/c/../d:ro", VolumeKind.Bind, "/h/x", "/d", true)]
    [InlineData("/h:/c:rw", VolumeKind.Bind, "/h", "/c", false)]
    [InlineData("data:/var/lib/data", VolumeKind.Named, "data", "/var/lib/data", false)]
    [InlineData("my_vol.1-x:/c:ro", VolumeKind.Named, "my_vol.1-x", "/c", true)]
    public void Volumes_parse(string text, VolumeKind kind, string source, string destination, bool ro)
        => Assert.Equal(new VolumeSpec(kind, source, destination, ro), VolumeSpec.Parse(text));

    [Theory]
    [InlineData("ctr", "mount path must be absolute")]
    [InlineData("/h:ctr", "mount path must be absolute")]
    [InlineData("/h:/c:z", "invalid mode: z")]
    [InlineData("/h:/c:ro,z", "invalid mode: ro,z")]
    [InlineData("/h:/c:ro:x", "invalid volume specification: '/h:/c:ro:x'")]
    [InlineData("/c:ro", "invalid volume specification: '/c:ro'")]
    [InlineData("", "invalid volume specification: ''")]
    [InlineData("/h::ro", "invalid volume specification: '/h::ro'")]
    [InlineData("/h:/", "destination can't be '/'")]
    [InlineData("./rel:/c", "includes invalid characters for a local volume name")]
    [InlineData("a:/c", "includes invalid characters for a local volume name")]
    public void Bad_volumes_are_errors(string text, string message) => Assert.Contains(message, Assert.Throws<ContainerException>(() => VolumeSpec.Parse(text)).Message);

    [Theory]
    [InlineData("", "no", 0)]
    [InlineData("no", "no", 0)]
    [InlineData("always", "always", 0)]
    [InlineData("unless-stopped", "unless-stopped", 0)]
    [InlineData("on-failure", "on-failure", 0)]
    [InlineData("on-failure:3", "on-failure", 3)]
    public void Restart_policies_parse(string text, string name, int retries) => Assert.Equal(new RestartPolicy(name, retries), RestartPolicy.Parse(text));

    [Theory]
    [InlineData("sometimes", "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'")]
    [InlineData("always:3", "invalid restart policy: maximum retry count can only be used with 'on-failure'")]
    [InlineData("on-failure:x", "invalid restart policy format: maximum retry count must be an integer")]
    [InlineData("on-failure:-1", "invalid restart policy: maximum retry count cannot be negative")]
    [InlineData(":3", "invalid restart policy format: no policy provided before colon")]
    public void Bad_restart_policies_are_errors(string text, string message) => Assert.Equal(message, Assert.Throws<ContainerException>(() => RestartPolicy.Parse(text)).Message);

    [Theory]
    [InlineData("web")]
    [InlineData("a1")]
    [InlineData("my_app.v2-x")]
    [InlineData("0abc")]
    public void Good_container_names(string name) => ContainerName.Validate(name);

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("_web")]
    [InlineData("-web")]
    [InlineData("web app")]
    [InlineData("web/app")]
    [InlineData("wéb")]
    public void Bad_container_names(string name)
        => Assert.Equal($"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", Assert.Throws<ContainerException>(() => ContainerName.Validate(name)).Message);
}
