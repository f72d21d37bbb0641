using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_rename_in (fuse_kernel.h, protocol 7.45), 8 bytes. FUSE_RENAME request body, followed by the old name and the new name, each with its NUL.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
internal struct FuseRenameIn
{
    /// <summary>sizeof(struct fuse_rename_in).</summary>
    public const int SizeOf = 8;

    /// <summary>newdir: node id of the destination directory (the header's nodeid is the source directory).</summary>
    [FieldOffset(0)]
    public ulong Newdir;
}
