using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_open_out (fuse_kernel.h, protocol 7.45), 16 bytes. Reply to OPEN and OPENDIR.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseOpenOut
{
    /// <summary>sizeof(struct fuse_open_out).</summary>
    public const int SizeOf = 16;

    /// <summary>fh: server's file handle, echoed in later requests.</summary>
    [FieldOffset(0)]
    public ulong Fh;

    /// <summary>open_flags: FOPEN_* flags.</summary>
    [FieldOffset(8)]
    public uint OpenFlags;

    /// <summary>backing_id: passthrough backing id; 0 here.</summary>
    [FieldOffset(12)]
    public int BackingId;
}
