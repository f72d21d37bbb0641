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

    /// <summary>errors= behaviour; null: the superblock's s_errors (continue when unset, as the kernel).</summary>
    public Ext4ErrorBehavior? Errors { get; init; }

    /// <summary>
    /// commit=: how often a read-write volume writes its changes back on its own (the kernel's
    /// JBD2_DEFAULT_MAX_COMMIT_AGE is 5 s; zero means that default, as the kernel).
    /// </summary>
    public TimeSpan CommitInterval { get; init; } = DefaultCommitInterval;

    /// <summary>5 seconds (JBD2_DEFAULT_MAX_COMMIT_AGE).</summary>
    public static TimeSpan DefaultCommitInterval { get; } = TimeSpan.FromSeconds(5);

    /// <summary>Byte budget of the metadata block cache, clean and dirty blocks together: changed
    /// blocks are committed and checkpointed early rather than outgrow it (Ext4Volume.MaxBacklogBlocks).
    /// The mount option cache_size= sets it.</summary>
    public long CacheBytes { get; init; } = DefaultCacheBytes;

    /// <summary>
    /// Default <see cref="CacheBytes"/>: 16 MiB, 4096 blocks of 4 KiB, the inode tables of 256K
    /// inodes of 256 bytes. The device's blocks are in the kernel's page cache as well (the
    /// service reads them buffered), so a miss here costs a pread, not a disk read; 64 MiB
    /// (before bench/RESULTS.md "Run 6") added its difference to the service's RSS for no
    /// measured gain on the metadata workload.
    /// </summary>
    public const long DefaultCacheBytes = 16L << 20;
}
