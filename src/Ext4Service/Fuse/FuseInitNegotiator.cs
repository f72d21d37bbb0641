using System.Text;
using Safemount.Fuse.Abi;
using Safemount.Shared.Interop;

namespace Safemount.Fuse;

/// <summary>
/// FUSE_INIT negotiation as a pure function of the kernel's fuse_init_in and the session
/// options (FUSE-PROTOCOL.md §1.2, §2.2). Rules: major must be 7 (else EPROTO); minor =
/// min(45, kernel's), except that FUSE_IOMAP is taken only from a kernel that says minor 99
/// and offers bit 43, when iomapCapable (the options allow it and the file
/// system implements the iomap operations), and then the reply says minor 99 too; a flag is taken only if the kernel offered it and it is in
/// <see cref="WantedFlags"/> (plus <see cref="WritableFlags"/> when the file system is writable);
/// the reply is truncated to the compat size the kernel's minor expects.
/// </summary>
internal static class FuseInitNegotiator
{
    /// <summary>The flags this multi-threaded server always asks for. BIG_WRITES is implied by
    /// max_write but still taken for kernels that look at it.</summary>
    public const FuseInitFlags WantedFlags =
        FuseInitFlags.FUSE_ASYNC_READ
        | FuseInitFlags.FUSE_BIG_WRITES
        | FuseInitFlags.FUSE_MAX_PAGES
        | FuseInitFlags.FUSE_PARALLEL_DIROPS
        | FuseInitFlags.FUSE_DO_READDIRPLUS
        | FuseInitFlags.FUSE_READDIRPLUS_AUTO
        | FuseInitFlags.FUSE_CACHE_SYMLINKS
        | FuseInitFlags.FUSE_POSIX_ACL
        | FuseInitFlags.FUSE_EXPLICIT_INVAL_DATA
        | FuseInitFlags.FUSE_INIT_EXT
        | FuseInitFlags.FUSE_ASYNC_DIO;

    /// <summary>
    /// Taken in addition when the file system is writable, never when read-only:
    /// ATOMIC_O_TRUNC (O_TRUNC reaches OPEN instead of a separate SETATTR), HANDLE_KILLPRIV_V2
    /// (the server clears suid/sgid; the kernel sets SB_NOSEC and sends the KILL_SUIDGID bits),
    /// SETXATTR_EXT (16-byte fuse_setxattr_in), DONT_MASK (CREATE/MKNOD/MKDIR/TMPFILE carry the
    /// unmasked mode and the caller's umask: a parent's default ACL replaces the umask, which only
    /// the file system can know). WRITEBACK_CACHE is added separately, when
    /// <see cref="FuseSessionOptions.WritebackCache"/> allows it.
    /// </summary>
    public const FuseInitFlags WritableFlags =
        FuseInitFlags.FUSE_ATOMIC_O_TRUNC
        | FuseInitFlags.FUSE_HANDLE_KILLPRIV_V2
        | FuseInitFlags.FUSE_SETXATTR_EXT
        | FuseInitFlags.FUSE_DONT_MASK;

    /// <summary>init_out.max_background: background requests (readahead, async DIO) in flight.</summary>
    public const ushort MaxBackground = 64;

    /// <summary>init_out.congestion_threshold: background requests before the bdi reports congestion.</summary>
    public const ushort CongestionThreshold = 48;

    /// <summary>Pages per request the kernel assumes when FUSE_MAX_PAGES is not negotiated
    /// (FUSE_DEFAULT_MAX_PAGES_PER_REQ).</summary>
    public const ushort DefaultMaxPages = 32;

    /// <summary>Negotiates. On <see cref="Errno.None"/>, <paramref name="initOut"/> is the reply
    /// and <paramref name="replySize"/> how many of its bytes to send. <paramref name="writable"/>
    /// is the file system's !IsReadOnly.</summary>
    public static Errno Negotiate(in FuseInitIn initIn, FuseSessionOptions options, bool writable, out FuseInitOut initOut, out int replySize, out FuseInitResult result, bool iomapCapable = false)
    {
        initOut = default;
        replySize = 0;
        result = default;
        if (initIn.Major != FuseAbi.FUSE_KERNEL_VERSION)
        {
            return Errno.EPROTO;
        }

        uint minor = Math.Min(initIn.Minor, FuseAbi.FUSE_KERNEL_MINOR_VERSION);
        ulong offered = initIn.Flags;
        if ((offered & (ulong)FuseInitFlags.FUSE_INIT_EXT) != 0)
        {
            offered |= (ulong)initIn.Flags2 << 32;
        }

        FuseInitFlags wanted = WantedFlags;
        if (writable)
        {
            wanted |= WritableFlags;
            if (options.WritebackCache)
            {
                wanted |= FuseInitFlags.FUSE_WRITEBACK_CACHE;
            }
        }

        // fuse-iomap v7 (§2.2 step 4, PART 5): only minor 99 gives bit 43 that meaning.
        bool iomapKernel = initIn.Minor == FuseAbi.FUSE_IOMAP_MINOR_VERSION;
        if (iomapKernel && iomapCapable && options.AllowIomap)
        {
            wanted |= FuseInitFlags.FUSE_IOMAP;
        }

        ulong taken = offered & (ulong)wanted;
        if ((taken & (ulong)FuseInitFlags.FUSE_IOMAP) != 0)
        {
            minor = FuseAbi.FUSE_IOMAP_MINOR_VERSION;
        }
        bool maxPagesTaken = (taken & (ulong)FuseInitFlags.FUSE_MAX_PAGES) != 0;
        ushort maxPages = maxPagesTaken ? options.MaxPages : Math.Min(options.MaxPages, DefaultMaxPages);
        uint maxWrite = (uint)maxPages * FuseAbi.PageSize;

        initOut.Major = FuseAbi.FUSE_KERNEL_VERSION;
        initOut.Minor = minor;
        initOut.MaxReadahead = initIn.MaxReadahead;
        initOut.Flags = (uint)taken;
        initOut.Flags2 = (uint)(taken >> 32);
        initOut.MaxBackground = MaxBackground;
        initOut.CongestionThreshold = CongestionThreshold;
        initOut.MaxWrite = maxWrite;
        initOut.TimeGran = options.TimeGranularityNs;
        initOut.MaxPages = maxPagesTaken ? maxPages : (ushort)0;

        replySize = minor < 5 ? FuseAbi.FUSE_COMPAT_INIT_OUT_SIZE
            : minor < 23 ? FuseAbi.FUSE_COMPAT_22_INIT_OUT_SIZE
            : FuseInitOut.SizeOf;
        result = new FuseInitResult(initIn.Major, initIn.Minor, offered, taken, maxWrite, maxPages);
        return Errno.None;
    }

    /// <summary>Flag names for logs: "ASYNC_READ|BIG_WRITES|..."; unknown bits as "bitN".</summary>
    public static string FormatFlags(ulong flags)
    {
        var sb = new StringBuilder();
        for (int bit = 0; bit < 64; bit++)
        {
            ulong mask = 1UL << bit;
            if ((flags & mask) == 0)
            {
                continue;
            }

            if (sb.Length > 0)
            {
                sb.Append('|');
            }

            string? name = Enum.GetName((FuseInitFlags)mask);
            sb.Append(name is null ? $"bit{bit}" : name["FUSE_".Length..]);
        }

        return sb.Length == 0 ? "none" : sb.ToString();
    }
}
