using System.Runtime.InteropServices;

namespace Safemount.Fuse.Abi;

/// <summary>struct fuse_kstatfs (fuse_kernel.h, protocol 7.45), 80 bytes. Reply to FUSE_STATFS (fuse_statfs_out holds exactly this).</summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
internal struct FuseKstatfs
{
    /// <summary>sizeof(struct fuse_kstatfs).</summary>
    public const int SizeOf = 80;

    /// <summary>blocks: total data blocks, in frsize units.</summary>
    [FieldOffset(0)]
    public ulong Blocks;

    /// <summary>bfree: free blocks.</summary>
    [FieldOffset(8)]
    public ulong Bfree;

    /// <summary>bavail: free blocks available to unprivileged users.</summary>
    [FieldOffset(16)]
    public ulong Bavail;

    /// <summary>files: total inodes.</summary>
    [FieldOffset(24)]
    public ulong Files;

    /// <summary>ffree: free inodes.</summary>
    [FieldOffset(32)]
    public ulong Ffree;

    /// <summary>bsize: preferred I/O size in bytes.</summary>
    [FieldOffset(40)]
    public uint Bsize;

    /// <summary>namelen: longest file name in bytes.</summary>
    [FieldOffset(44)]
    public uint Namelen;

    /// <summary>frsize: fragment (block) size in bytes.</summary>
    [FieldOffset(48)]
    public uint Frsize;

    /// <summary>padding: zero.</summary>
    [FieldOffset(52)]
    public uint Padding;
}
