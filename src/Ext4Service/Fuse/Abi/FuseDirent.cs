using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_dirent (fuse_kernel.h, protocol 7.45), 24 bytes. Header of one READDIR record; name follows, record padded to 8 bytes.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct FuseDirent
{
    /// <summary>sizeof(struct fuse_dirent).</summary>
    public const int SizeOf = 24;

    /// <summary>ino: inode number for d_ino.</summary>
    [FieldOffset(0)]
    public ulong Ino;

    /// <summary>off: cookie the kernel passes back to continue after this entry.</summary>
    [FieldOffset(8)]
    public ulong Off;

    /// <summary>namelen: name length in bytes, no NUL.</summary>
    [FieldOffset(16)]
    public uint Namelen;

    /// <summary>type: DT_* file type.</summary>
    [FieldOffset(20)]
    public uint Type;
}
