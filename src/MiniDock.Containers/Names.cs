namespace MiniDock.Containers;

/// <summary>Docker-style generated names (<c>adjective_surname</c>), so a user can refer to a container without its ID.</summary>
public static class Names
{
    private static readonly string[] Left =
    [
        "admiring", "bold", "brave", "busy", "calm", "clever", "cool", "eager", "elated", "epic", "focused", "gentle",
        "happy", "hopeful", "jolly", "keen", "kind", "lucid", "modest", "nice", "quirky", "relaxed", "serene", "sharp",
        "sleepy", "stoic", "tender", "trusting", "vibrant", "wizardly", "youthful", "zealous",
    ];

    private static readonly string[] Right =
    [
        "babbage", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler", "fermi", "feynman", "galois", "gauss",
        "hopper", "hypatia", "kepler", "knuth", "lamport", "liskov", "lovelace", "maxwell", "meitner", "newton", "noether",
        "pascal", "ritchie", "shannon", "thompson", "torvalds", "turing", "wozniak", "yalow",
    ];

    public static string Generate() => $"{Left[Random.Shared.Next(Left.Length)]}_{Right[Random.Shared.Next(Right.Length)]}";

    /// <summary>A new 64-hex container ID.</summary>
    public static string NewId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
}
