namespace Safemount.Ext4;

/// <summary>How to open a volume.</summary>
public sealed class Ext4OpenOptions
{
    /// <summary>
    /// Open read-only. False is accepted and reported by <see cref="Ext4Volume.IsReadOnly"/>
    /// unless a feature forces read-only. The only write the engine makes so far is journal
    /// replay: with false and an <see cref="Storage.IWritableBlockDevice"/> that can write, a
    /// journal that needs recovery is replayed onto the device; otherwise it is replayed into
    /// memory and the volume is read-only.
    /// </summary>
    public bool ReadOnly { get; init; } = true;

    /// <summary>
    /// Replay a journal that needs recovery (default). False is the kernel's noload /
    /// norecovery: the volume is served as the device holds it, without its committed but
    /// unreplayed transactions, read-only and with a warning; a read-write open is refused.
    /// </summary>
    public bool ReplayJournal { get; init; } = true;

    /// <summary>Byte budget of the metadata block cache.</summary>
    public long CacheBytes { get; init; } = 64 << 20;
}
