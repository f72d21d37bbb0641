namespace Safemount.Shared.Interop;

/// <summary>The fields of a statx(2) answer that the two processes use to check fds.</summary>
public readonly struct StatxResult
{
    public const uint S_IFMT = 0xF000;
    public const uint S_IFREG = 0x8000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFCHR = 0x2000;
    public const uint S_IFBLK = 0x6000;

    internal StatxResult(in StatxBuffer b)
    {
        Mode = b.stx_mode;
        Uid = b.stx_uid;
        Gid = b.stx_gid;
        Size = b.stx_size;
        Inode = b.stx_ino;
        RdevMajor = b.stx_rdev_major;
        RdevMinor = b.stx_rdev_minor;
        DevMajor = b.stx_dev_major;
        DevMinor = b.stx_dev_minor;
    }

    public uint Mode { get; }

    public uint Uid { get; }

    public uint Gid { get; }

    public ulong Size { get; }

    public ulong Inode { get; }

    public uint RdevMajor { get; }

    public uint RdevMinor { get; }

    public uint DevMajor { get; }

    public uint DevMinor { get; }

    public bool IsRegular => (Mode & S_IFMT) == S_IFREG;

    public bool IsDirectory => (Mode & S_IFMT) == S_IFDIR;

    public bool IsBlockDevice => (Mode & S_IFMT) == S_IFBLK;

    public bool IsCharDevice => (Mode & S_IFMT) == S_IFCHR;
}
