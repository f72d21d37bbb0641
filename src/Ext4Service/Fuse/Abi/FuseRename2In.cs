using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_rename2_in (fuse_kernel.h, protocol 7.45), 16 bytes. FUSE_RENAME2 request body, followed by the old name and the new name, each with its NUL.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct FuseRename2In
{
    /// <summary>sizeof(struct fuse_rename2_in).</summary>
    public const int SizeOf = 16;

    /// <summary>newdir: node id of the destination directory.</summary>
    [FieldOffset(0)]
    public ulong Newdir;

    /// <summary>flags: RENAME_NOREPLACE 1, RENAME_EXCHANGE 2, RENAME_WHITEOUT 4.</summary>
    [FieldOffset(8)]
    public uint Flags;

    /// <summary>padding: zero.</summary>
    [FieldOffset(12)]
    public uint Padding;
}
