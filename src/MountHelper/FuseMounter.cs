using System.Globalization;
using Safemount.Shared.Interop;

namespace Safemount.MountHelper;

/// <summary>
/// Mounts the FUSE connection: fsopen("fuseblk") + fsconfig + fsmount + move_mount onto the
/// mountpoint fd; where fsopen is ENOSYS, mount(2) of "fuseblk.SUBTYPE" with an option string.
/// The kernel-side options are always fd, rootmode, user_id=0, group_id=0,
/// default_permissions, allow_other, blksize (fuseblk only), subtype.
/// </summary>
internal static class FuseMounter
{
    public sealed record Request(
        string FsType,
        string Subtype,
        string Source,
        SafeFd Fuse,
        SafeFd Mountpoint,
        uint RootMode,
        uint BlockSize,
        MountPolicy Policy);

    /// <summary>The kernel option string (also what -v prints).</summary>
    public static string OptionString(Request r)
    {
        string s = string.Create(CultureInfo.InvariantCulture, $"fd={r.Fuse.Fd},rootmode={Convert.ToString(r.RootMode, 8)},user_id=0,group_id=0,default_permissions,allow_other");
        return r.FsType == "fuseblk" ? string.Create(CultureInfo.InvariantCulture, $"{s},blksize={r.BlockSize}") : s;
    }

    /// <summary>
    /// Mounts; returns "fsmount" or "mount(2)" for -v. <paramref name="mayAttach"/> is asked once
    /// the mount exists detached (after fsmount, which with synchronous INIT waits for the service's
    /// FUSE_INIT reply) and before move_mount makes it visible; false abandons it (ECANCELED) and
    /// nothing is mounted.
    /// </summary>
    public static string Mount(Request r, Func<bool>? mayAttach = null)
    {
        SafeFd fs;
        try
        {
            fs = MountInterop.FsOpen(r.FsType);
        }
        catch (ErrnoException e) when (e.Errno == Errno.ENOSYS)
        {
            string target = $"/proc/self/fd/{r.Mountpoint.Fd}";
            MountInterop.Mount(r.Source, target, $"{r.FsType}.{r.Subtype}", r.Policy.MountFlags, OptionString(r));
            return "mount(2)";
        }

        using (fs)
        {
            MountInterop.FsConfigString(fs, "source", r.Source);
            MountInterop.FsConfigString(fs, "fd", r.Fuse.Fd.ToString(CultureInfo.InvariantCulture));
            MountInterop.FsConfigString(fs, "rootmode", Convert.ToString(r.RootMode, 8));
            MountInterop.FsConfigString(fs, "user_id", "0");
            MountInterop.FsConfigString(fs, "group_id", "0");
            MountInterop.FsConfigFlag(fs, "default_permissions");
            MountInterop.FsConfigFlag(fs, "allow_other");
            if (r.FsType == "fuseblk")
            {
                MountInterop.FsConfigString(fs, "blksize", r.BlockSize.ToString(CultureInfo.InvariantCulture));
            }

            MountInterop.FsConfigString(fs, "subtype", r.Subtype);
            if (r.Policy.ReadOnly)
            {
                // Superblock read-only too, so the kernel opens the block device read-only.
                MountInterop.FsConfigFlag(fs, "ro");
            }

            MountInterop.FsConfigCreate(fs);
            using SafeFd mnt = MountInterop.FsMount(fs, r.Policy.MountAttributes);
            if (mayAttach is not null && !mayAttach())
            {
                throw new ErrnoException("move_mount", Errno.ECANCELED);
            }

            MountInterop.MoveMountOnto(mnt, r.Mountpoint);
        }

        return "fsmount";
    }
}
