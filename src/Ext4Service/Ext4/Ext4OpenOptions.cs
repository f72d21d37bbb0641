namespace Safemount.Ext4;

/// <summary>How to open a volume.</summary>
public sealed class Ext4OpenOptions
{
    /// <summary>Open read-only. The engine is read-only today, so false is refused.</summary>
    public bool ReadOnly { get; init; } = true;

    /// <summary>Byte budget of the metadata block cache.</summary>
    public long CacheBytes { get; init; } = 64 << 20;
}
