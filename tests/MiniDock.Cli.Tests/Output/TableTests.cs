using MiniDock.Cli.Output;

namespace MiniDock.Cli.Tests.Output;

public sealed class TableTests
{
    [Fact]
    public void Lays_out_columns_like_dockers_tabwriter()
    {
        var s = Table.Render(
            ["CONTAINER ID", "IMAGE", "STATUS", "NAMES"],
            [
                ["4f1c2a8e9b01", "busybox", "Up 2 minutes", "web"],
                ["a1", "docker.io/library/alpine:latest", "Exited (0) 1 hour ago", "db"],
            ]);

        Assert.Equal(
            "CONTAINER ID   IMAGE                             STATUS                  NAMES\n" +
            "4f1c2a8e9b01   busybox                           Up 2 minutes            web\n" +
            "a1             docker.io/library/alpine:latest   Exited (0) 1 hour ago   db\n",
            s);
    }

    [Fact]
    public void Narrow_columns_are_at_least_ten_wide_as_docker_images_shows()
    {
        var s = Table.Render(["REPOSITORY", "TAG", "IMAGE ID", "SIZE"], [["busybox", "latest", "27a71e19c956", "4.27MB"]]);
        Assert.Equal(
            "REPOSITORY   TAG       IMAGE ID       SIZE\n" +
            "busybox      latest    27a71e19c956   4.27MB\n",
            s);
    }

    [Fact]
    public void No_trailing_spaces_even_when_last_cells_are_empty()
    {
        var s = Table.Render(["A", "B", "C"], [["x", "", ""], ["", "y", ""]]);
        Assert.Equal(
            "A         B         C\n" +
            "x\n" +
            "          y\n",
            s);
        Assert.DoesNotContain(" \n", s, StringComparison.Ordinal);
    }

    [Fact]
    public void Widths_count_runes_not_utf16_units()
    {
        // "😀" is two UTF-16 units but one rune, as tabwriter counts it.
        var s = Table.Render(["NAME", "X"], [["ééééééééééé😀", "1"]]);
        Assert.Equal(
            "NAME           X\n" +
            "ééééééééééé😀   1\n",
            s);
    }

    [Fact]
    public void Header_only_when_there_are_no_rows()
    {
        Assert.Equal("DRIVER    VOLUME NAME\n", Table.Render(["DRIVER", "VOLUME NAME"], []));
    }

    [Fact]
    public void Single_column_is_never_padded()
    {
        Assert.Equal("ID\nabc\n", Table.Render(["ID"], [["abc"]]));
    }

    [Fact]
    public void Row_with_the_wrong_number_of_cells_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Table.Render(["A", "B"], [["only one"]]));
    }
}
