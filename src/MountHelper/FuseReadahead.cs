using System.Globalization;
using Safemount.Shared.Protocol;

namespace Safemount.MountHelper;

/// <summary>
/// Gives a fuseblk mount the readahead window the kernel's ext4 would have on the same device.
/// The kernel's ext4 reads through the block device's own backing_dev_info (sb->s_bdi is the
/// disk's, read_ahead_kb from its request queue: 2560 KiB on a loop device here, set from the
/// device's optimal I/O size, or what `blockdev --setra` made it). A fuseblk superblock gets a
/// backing_dev_info of its own instead, named "MAJ:MIN-fuseblk" after the block device
/// (fs/fuse/inode.c fuse_bdi_init), starting at VM_READAHEAD_PAGES (128 KiB), and FUSE_INIT's
/// max_readahead can only lower that (process_init_reply). With 128 KiB a cold sequential read
/// reaches the service as 256 KiB READs with too little in flight; with the device's window
/// they are max_pages (1 MiB) READs ahead of the reader. Only root can raise it: the helper
/// writes the device's value into the FUSE bdi's read_ahead_kb, once, right after the mount.
/// The service is not involved and nothing here is read from the file system.
/// </summary>
internal static class FuseReadahead
{
    /// <summary>
    /// Copies the device's read_ahead_kb to its fuseblk bdi. <paramref name="major"/>/<paramref name="minor"/>
    /// are the block device's (st_rdev of the source; the fuseblk superblock's s_dev is the same
    /// number). A partition has no queue of its own: its disk's is used (the parent directory of
    /// its sysfs node), as the kernel's ext4 on a partition reads with the disk's window.
    /// Returns "KIB from PATH" for -v. Throws <see cref="IOException"/> or
    /// <see cref="UnauthorizedAccessException"/> when sysfs does not have or refuses the files.
    /// </summary>
    public static string Match(uint major, uint minor, string sysfs = "/sys")
    {
        string source = DeviceQueueFile(major, minor, sysfs);
        string text = File.ReadAllText(source).Trim();
        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint kib))
        {
            throw new IOException($"{source}: not a number: '{TextSanitizer.OneLine(text)}'");
        }

        string target = Path.Combine(sysfs, "class", "bdi", $"{major}:{minor}-fuseblk", "read_ahead_kb");

        // FileMode.Open: a sysfs attribute is written in place, never created or truncated.
        using (FileStream f = new(target, FileMode.Open, FileAccess.Write))
        {
            f.Write(System.Text.Encoding.ASCII.GetBytes(kib.ToString(CultureInfo.InvariantCulture) + "\n"));
        }

        return $"{kib} KiB from {source}";
    }

    /// <summary>
    /// queue/read_ahead_kb of the device, or of its disk for a partition. /sys/dev/block/MAJ:MIN is
    /// a symlink into /sys/devices; a partition's node sits inside its disk's directory, so the
    /// link is resolved before going up (a lexical "..", as .NET paths would do, goes wrong).
    /// </summary>
    private static string DeviceQueueFile(uint major, uint minor, string sysfs)
    {
        string node = Path.Combine(sysfs, "dev", "block", $"{major}:{minor}");
        string own = Path.Combine(node, "queue", "read_ahead_kb");
        if (File.Exists(own))
        {
            return own;
        }

        string real = Directory.ResolveLinkTarget(node, returnFinalTarget: true)?.FullName
            ?? throw new IOException($"{node}: not a link into /sys/devices");
        if (!File.Exists(Path.Combine(real, "partition")))
        {
            throw new IOException($"{real}: no queue/read_ahead_kb and not a partition");
        }

        return Path.Combine(Path.GetDirectoryName(real)!, "queue", "read_ahead_kb");
    }
}
