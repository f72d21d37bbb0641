namespace Safemount.Fuse;

/// <summary>Tunables of one <see cref="FuseSession"/>.</summary>
public sealed class FuseSessionOptions
{
    /// <summary>Upper bound for <see cref="MaxPages"/>: max_pages is a u16 and the kernel's
    /// fs.fuse.max_pages_limit is at most 65535.</summary>
    public const ushort MaxPagesLimit = ushort.MaxValue;

    /// <summary>Threads blocked in read() on the device; one serves FUSE_INIT, the rest start
    /// after INIT has been answered.</summary>
    public int WorkerThreads { get; init; } = 4;

    /// <summary>entry_valid of every LOOKUP and READDIRPLUS entry.</summary>
    public TimeSpan EntryTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>attr_valid of every entry, GETATTR and STATX reply.</summary>
    public TimeSpan AttrTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>init_out.max_pages (4 KiB pages per request); max_write = MaxPages * 4096.
    /// 256 gives 1 MiB requests.</summary>
    public ushort MaxPages { get; init; } = 256;

    /// <summary>init_out.time_gran in nanoseconds (1..1e9).</summary>
    public uint TimeGranularityNs { get; init; } = 1;

    /// <summary>Take FUSE_WRITEBACK_CACHE when the file system is writable (ignored when
    /// read-only). The kernel then keeps dirty pages, owns size and mtime, and sends WRITEs with
    /// FUSE_WRITE_CACHE at writeback; false makes every write(2) a synchronous WRITE.</summary>
    public bool WritebackCache { get; init; } = true;

    /// <summary>Take FUSE_IOMAP (FUSE-PROTOCOL.md §2.2) when a fuse-iomap kernel (INIT minor 99)
    /// offers it and the file system implements <see cref="IFuseIomapFileSystem"/>. The kernel
    /// offers it only on a /dev/fuse fd that had FUSE_DEV_IOC_ADD_IOMAP before mount, which the
    /// mount helper issues when the iomap= option allows; false keeps the mainline data path.</summary>
    public bool AllowIomap { get; init; }
}
