namespace Safemount.Shared.CommandLine;

/// <summary>
/// The iomap= mount option: which FUSE data path a safe.ext4 mount uses. auto (the default):
/// fuse-iomap when the kernel has it (FUSE_DEV_IOC_IOMAP_SUPPORT reports FILEIO and
/// FUSE_DEV_IOC_ADD_IOMAP succeeds), else the mainline path; on: fuse-iomap or a failed mount
/// naming the reason; off: always the mainline path.
/// </summary>
public enum IomapMode
{
    Auto,
    On,
    Off,
}
