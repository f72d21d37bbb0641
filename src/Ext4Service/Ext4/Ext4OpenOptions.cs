namespace Safemount.Ext4;

/// <summary>How to open a volume.</summary>
public sealed class Ext4OpenOptions
{
    /// <summary>
    /// Open read-only. False is accepted and reported by <see cref="Ext4Volume.IsReadOnly"/>
    /// unless a feature forces read-only, but this engine has no write path yet.
    /// </summary>
    public bool ReadOnly { get; init; } = true;

    /// <summary>Byte budget of the metadata block cache.</summary>
    public long CacheBytes { get; init; } = 64 << 20;
}
