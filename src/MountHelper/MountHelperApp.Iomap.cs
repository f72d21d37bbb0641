using Safemount.Shared.CommandLine;
using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.MountHelper;

/// <summary>
/// The iomap= decision, made on the /dev/fuse fd before mount (FUSE-PROTOCOL.md §2.2 steps
/// 2-3): FUSE_DEV_IOC_IOMAP_SUPPORT must report FUSE_IOMAP_SUPPORT_FILEIO, then
/// FUSE_DEV_IOC_ADD_IOMAP opts the fd in (it needs CAP_SYS_RAWIO, which this root helper has,
/// and the fuse.enable_iomap module parameter). iomap=auto falls back to the mainline data path
/// on any refusal; iomap=on turns the refusal into a mount failure (exit 32) naming the reason,
/// before anything is mounted.
/// </summary>
internal sealed partial class MountHelperApp
{
    private FuseFdFlags PrepareIomap(SafeFd fuse, IomapMode mode, HelperClient client)
    {
        if (mode == IomapMode.Off)
        {
            Say("iomap=off: mainline FUSE data path");
            return FuseFdFlags.None;
        }

        string? refusal = ProbeAndAddIomap(fuse);
        if (refusal is null)
        {
            Say("fuse-iomap: FUSE_DEV_IOC_ADD_IOMAP done; the kernel moves file data");
            return FuseFdFlags.IomapAdded;
        }

        if (mode == IomapMode.On)
        {
            client.Abort($"iomap=on: {refusal}");
            throw new MountFailureException($"iomap=on but the kernel cannot use fuse-iomap: {refusal}");
        }

        Say($"fuse-iomap unavailable ({refusal}): mainline FUSE data path");
        return FuseFdFlags.None;
    }

    /// <summary>Null when the fd is opted into iomap; else why not, in one line.</summary>
    internal static string? ProbeAndAddIomap(SafeFd fuse)
    {
        Errno rc = FuseIomapInterop.QuerySupport(fuse, out ulong flags);
        if (rc != Errno.None)
        {
            string why = rc == Errno.ENOTTY ? " (mainline kernel without fuse-iomap)" : string.Empty;
            return $"FUSE_DEV_IOC_IOMAP_SUPPORT: {rc}{why}";
        }

        if ((flags & fuse_iomap_support.FUSE_IOMAP_SUPPORT_FILEIO) == 0)
        {
            return $"FUSE_DEV_IOC_IOMAP_SUPPORT: flags 0x{flags:x} lack FUSE_IOMAP_SUPPORT_FILEIO";
        }

        rc = FuseIomapInterop.AddIomap(fuse);
        if (rc != Errno.None)
        {
            string why = rc == Errno.EPERM ? " (needs fuse.enable_iomap=1 and CAP_SYS_RAWIO)" : string.Empty;
            return $"FUSE_DEV_IOC_ADD_IOMAP: {rc}{why}";
        }

        return null;
    }
}
