namespace Safemount.Fuse;

/// <summary>Outcome of FUSE_INIT negotiation: the kernel's version, the 64-bit flag set it
/// offered (flags | flags2 &lt;&lt; 32), the flags the server took, and the request limits.</summary>
public readonly record struct FuseInitResult(
    uint KernelMajor,
    uint KernelMinor,
    ulong OfferedFlags,
    ulong TakenFlags,
    uint MaxWrite,
    ushort MaxPages)
{
    /// <summary>FUSE_WRITEBACK_CACHE was taken: the kernel's page cache holds writes the server has not seen yet.</summary>
    public bool WritebackCache => (this.TakenFlags & (ulong)Abi.FuseInitFlags.FUSE_WRITEBACK_CACHE) != 0;

    /// <summary>FUSE_IOMAP was taken (fuse-iomap v7): file data moves in the kernel; the server
    /// answers IOMAP_BEGIN/END/IOEND and marks regular files IOMAP|EXCLUSIVE.</summary>
    public bool Iomap => (this.TakenFlags & (ulong)Abi.FuseInitFlags.FUSE_IOMAP) != 0;
}
