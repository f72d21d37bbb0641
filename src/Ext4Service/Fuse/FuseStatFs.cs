namespace Safemount.Fuse;

/// <summary>struct fuse_kstatfs values: block counts in <see cref="Frsize"/> units, inode
/// counts, the preferred I/O size and the longest name.</summary>
public readonly record struct FuseStatFs(
    ulong Blocks,
    ulong Bfree,
    ulong Bavail,
    ulong Files,
    ulong Ffree,
    uint Bsize,
    uint NameLen,
    uint Frsize);
