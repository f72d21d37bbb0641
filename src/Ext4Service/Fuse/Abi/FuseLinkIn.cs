using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_link_in (fuse_kernel.h, protocol 7.45), 8 bytes. FUSE_LINK request body, followed by the new name and its NUL (the header's nodeid is the new parent).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseLinkIn
{
    /// <summary>sizeof(struct fuse_link_in).</summary>
    public const int SizeOf = 8;

    /// <summary>oldnodeid: node id of the existing inode to link.</summary>
    [FieldOffset(0)]
    public ulong Oldnodeid;
}
