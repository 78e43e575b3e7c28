namespace MiniDock.Images;

/// <summary>What a pull reports as it goes: one event per layer state change, and bytes as they arrive.</summary>
public interface IPullProgress
{
    void Resolved(string reference, string manifestDigest, int layers);

    void Layer(string digest, long size, LayerState state);

    void Bytes(string digest, long total);
}

public enum LayerState
{
    Waiting,
    Exists,
    Downloading,
    Verifying,
    Downloaded,
    Extracting,
    Done,
}

/// <summary>Reports nothing (for -q and for callers that don't care).</summary>
public sealed class NoProgress : IPullProgress
{
    public static readonly NoProgress Instance = new();

    public void Resolved(string reference, string manifestDigest, int layers)
    {
    }

    public void Layer(string digest, long size, LayerState state)
    {
    }

    public void Bytes(string digest, long total)
    {
    }
}
