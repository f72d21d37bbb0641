using Safemount.Shared.Interop;
using Safemount.Shared.Protocol;

namespace Safemount.MountHelper;

/// <summary>
/// The only values the helper takes from the (untrusted) service: fs type fuse/fuseblk,
/// rootmode (a directory mode), blksize (a power of two 512..65536), subtype (a fixed set).
/// Anything else fails the mount.
/// </summary>
internal static class ServiceValueAllowlist
{
    public const uint MinBlockSize = 512;
    public const uint MaxBlockSize = 65536;

    /// <summary>Permission and set-id bits allowed in rootmode besides S_IFDIR.</summary>
    public const uint PermissionMask = 0xFFF; // 07777

    public static readonly IReadOnlySet<string> FsTypes = new HashSet<string>(StringComparer.Ordinal) { "fuseblk", "fuse" };

    public static readonly IReadOnlySet<string> Subtypes = new HashSet<string>(StringComparer.Ordinal) { "safe.ext4", "safe.ext3", "safe.ext2" };

    /// <summary>Throws <see cref="MountFailureException"/> naming the first value outside the allowlist.</summary>
    public static void Check(MountAccepted a)
    {
        if (!FsTypes.Contains(a.FsType))
        {
            throw new MountFailureException($"service asked for fs type '{TextSanitizer.OneLine(a.FsType)}', only fuseblk or fuse are allowed");
        }

        if (!Subtypes.Contains(a.Subtype))
        {
            throw new MountFailureException($"service asked for subtype '{TextSanitizer.OneLine(a.Subtype)}', not in the allowlist");
        }

        if ((a.RootMode & StatxResult.S_IFMT) != StatxResult.S_IFDIR || (a.RootMode & ~(StatxResult.S_IFMT | PermissionMask)) != 0)
        {
            throw new MountFailureException($"service gave root mode 0{Convert.ToString(a.RootMode, 8)}, not a directory mode");
        }

        if (a.BlockSize < MinBlockSize || a.BlockSize > MaxBlockSize || (a.BlockSize & (a.BlockSize - 1)) != 0)
        {
            throw new MountFailureException($"service gave block size {a.BlockSize}, not a power of two in {MinBlockSize}..{MaxBlockSize}");
        }
    }
}
