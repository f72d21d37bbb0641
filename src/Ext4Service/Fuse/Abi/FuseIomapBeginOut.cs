using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_iomap_begin_out (fuse-iomap v7 uapi, FUSE-PROTOCOL.md §2.4), 64 bytes. FUSE_IOMAP_BEGIN reply: the read mapping, then the write mapping (§2.7: both must cover pos).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct FuseIomapBeginOut
{
    /// <summary>sizeof(struct fuse_iomap_begin_out).</summary>
    public const int SizeOf = 64;

    /// <summary>read: mapping for reads, REPORT and pure overwrites.</summary>
    [FieldOffset(0)]
    public FuseIomapIo Read;

    /// <summary>write: mapping for out-of-place writes; PURE_OVERWRITE sends writes to the read mapping.</summary>
    [FieldOffset(32)]
    public FuseIomapIo Write;
}
