using System.Buffers.Binary;
using Safemount.Ext4;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.Ext4Service.Bridge;

/// <summary>
/// FUSE_IOCTL. The kernel's fileattr_get on a FUSE inode (fs/fuse/ioctl.c fuse_fileattr_get)
/// opens the node and sends FS_IOC_GETFLAGS (out_size 4) or FS_IOC_FSGETXATTR (out_size 28);
/// they are answered as ext4_fileattr_get answers them. FS_IOC_GETVERSION (lsattr -v), which
/// reaches the server as an ordinary restricted ioctl, gets i_generation as ext4_ioctl puts it:
/// one 32-bit int. The set variants are EROFS while the volume is read-only; every other
/// command is ENOTTY, as ext4_ioctl answers unknown ones.
/// </summary>
internal sealed partial class Ext4FuseFileSystem
{
    /// <summary>FS_IOC_GETFLAGS = _IOR('f', 1, long) on LP64.</summary>
    internal const uint FS_IOC_GETFLAGS = 0x80086601;

    /// <summary>FS_IOC_SETFLAGS = _IOW('f', 2, long) on LP64.</summary>
    internal const uint FS_IOC_SETFLAGS = 0x40086602;

    /// <summary>FS_IOC32_GETFLAGS = _IOR('f', 1, int).</summary>
    internal const uint FS_IOC32_GETFLAGS = 0x80046601;

    /// <summary>FS_IOC32_SETFLAGS = _IOW('f', 2, int).</summary>
    internal const uint FS_IOC32_SETFLAGS = 0x40046602;

    /// <summary>FS_IOC_GETVERSION = _IOR('v', 1, long) on LP64 (also EXT4_IOC_GETVERSION_OLD).</summary>
    internal const uint FS_IOC_GETVERSION = 0x80087601;

    /// <summary>FS_IOC32_GETVERSION = _IOR('v', 1, int).</summary>
    internal const uint FS_IOC32_GETVERSION = 0x80047601;

    /// <summary>EXT4_IOC_GETVERSION = _IOR('f', 3, long) on LP64.</summary>
    internal const uint EXT4_IOC_GETVERSION = 0x80086603;

    /// <summary>EXT4_IOC32_GETVERSION = _IOR('f', 3, int).</summary>
    internal const uint EXT4_IOC32_GETVERSION = 0x80046603;

    /// <summary>FS_IOC_FSGETXATTR = _IOR('X', 31, struct fsxattr).</summary>
    internal const uint FS_IOC_FSGETXATTR = 0x801C581F;

    /// <summary>FS_IOC_FSSETXATTR = _IOW('X', 32, struct fsxattr).</summary>
    internal const uint FS_IOC_FSSETXATTR = 0x401C5820;

    /// <summary>sizeof(struct fsxattr): fsx_xflags, fsx_extsize, fsx_nextents, fsx_projid,
    /// fsx_cowextsize (u32 each) and 8 bytes of fsx_pad.</summary>
    internal const int FsxattrSize = 28;

    public Errno Ioctl(in FuseRequestContext ctx, ulong nodeId, ulong fh, uint cmd, bool directory, ReadOnlySpan<byte> input, Span<byte> output, out int outputLength)
    {
        outputLength = 0;
        switch (cmd)
        {
            case FS_IOC_GETFLAGS:
            case FS_IOC32_GETFLAGS:
            {
                if (output.Length < sizeof(uint))
                {
                    return Errno.EINVAL;
                }

                Errno e = GetInode(nodeId, out Ext4Inode? inode);
                if (e != Errno.None)
                {
                    return e;
                }

                BinaryPrimitives.WriteUInt32LittleEndian(output, Ext4Volume.UserVisibleFlags(inode!));
                outputLength = sizeof(uint);
                return Errno.None;
            }

            case FS_IOC_GETVERSION:
            case FS_IOC32_GETVERSION:
            case EXT4_IOC_GETVERSION:
            case EXT4_IOC32_GETVERSION:
            {
                if (output.Length < sizeof(uint))
                {
                    return Errno.EINVAL;
                }

                Errno e = GetInode(nodeId, out Ext4Inode? inode);
                if (e != Errno.None)
                {
                    return e;
                }

                BinaryPrimitives.WriteUInt32LittleEndian(output, inode!.Generation);
                outputLength = sizeof(uint);
                return Errno.None;
            }

            case FS_IOC_FSGETXATTR:
            {
                if (output.Length < FsxattrSize)
                {
                    return Errno.EINVAL;
                }

                Errno e = GetInode(nodeId, out Ext4Inode? inode);
                if (e != Errno.None)
                {
                    return e;
                }

                Span<byte> fsx = output[..FsxattrSize];
                fsx.Clear();
                BinaryPrimitives.WriteUInt32LittleEndian(fsx, XflagsFromFlags(Ext4Volume.UserVisibleFlags(inode!)));
                BinaryPrimitives.WriteUInt32LittleEndian(fsx[12..], _volume.ProjectId(inode!));
                outputLength = FsxattrSize;
                return Errno.None;
            }

            case FS_IOC_SETFLAGS:
            case FS_IOC32_SETFLAGS:
            {
                if (IsReadOnly)
                {
                    return Errno.EROFS;
                }

                if (input.Length < sizeof(uint))
                {
                    return Errno.EINVAL;
                }

                uint ino = NodeIds.ToInode(nodeId);
                return ino == 0 ? Errno.ESTALE : ToErrno(_volume.SetUserFlags(ino, BinaryPrimitives.ReadUInt32LittleEndian(input), Ext4Volume.EXT4_FL_USER_MODIFIABLE, out _));
            }

            case FS_IOC_FSSETXATTR:
            {
                if (IsReadOnly)
                {
                    return Errno.EROFS;
                }

                if (input.Length < FsxattrSize)
                {
                    return Errno.EINVAL;
                }

                Errno e = GetInode(nodeId, out Ext4Inode? inode);
                if (e != Errno.None)
                {
                    return e;
                }

                // Project ids need the project feature, which the write path serves read-only.
                if (BinaryPrimitives.ReadUInt32LittleEndian(input[12..]) != _volume.ProjectId(inode!))
                {
                    return Errno.EOPNOTSUPP;
                }

                uint flags = FlagsFromXflags(BinaryPrimitives.ReadUInt32LittleEndian(input));
                return ToErrno(_volume.SetUserFlags(inode!.Number, flags, Ext4Volume.EXT4_FL_XFLAG_VISIBLE, out _));
            }

            default:
                return Errno.ENOTTY;
        }
    }

    /// <summary>The inverse of <see cref="XflagsFromFlags"/> for the FS_XFLAG_* bits ext4 accepts (EXT4_FL_XFLAG_VISIBLE).</summary>
    internal static uint FlagsFromXflags(uint x)
    {
        uint flags = 0;
        if ((x & 0x00000020) != 0) { flags |= 0x00000008; }  // FS_XFLAG_SYNC -> FS_SYNC_FL
        if ((x & 0x00000008) != 0) { flags |= 0x00000010; }  // FS_XFLAG_IMMUTABLE -> FS_IMMUTABLE_FL
        if ((x & 0x00000010) != 0) { flags |= 0x00000020; }  // FS_XFLAG_APPEND -> FS_APPEND_FL
        if ((x & 0x00000080) != 0) { flags |= 0x00000040; }  // FS_XFLAG_NODUMP -> FS_NODUMP_FL
        if ((x & 0x00000040) != 0) { flags |= 0x00000080; }  // FS_XFLAG_NOATIME -> FS_NOATIME_FL
        if ((x & 0x00000200) != 0) { flags |= 0x20000000; }  // FS_XFLAG_PROJINHERIT -> FS_PROJINHERIT_FL
        return flags;
    }

    /// <summary>fileattr_fill_flags (fs/file_attr.c): the FS_*_FL bits that have an FS_XFLAG_* twin.</summary>
    internal static uint XflagsFromFlags(uint flags)
    {
        uint x = 0;
        if ((flags & 0x00000008) != 0) { x |= 0x00000020; }  // FS_SYNC_FL -> FS_XFLAG_SYNC
        if ((flags & 0x00000010) != 0) { x |= 0x00000008; }  // FS_IMMUTABLE_FL -> FS_XFLAG_IMMUTABLE
        if ((flags & 0x00000020) != 0) { x |= 0x00000010; }  // FS_APPEND_FL -> FS_XFLAG_APPEND
        if ((flags & 0x00000040) != 0) { x |= 0x00000080; }  // FS_NODUMP_FL -> FS_XFLAG_NODUMP
        if ((flags & 0x00000080) != 0) { x |= 0x00000040; }  // FS_NOATIME_FL -> FS_XFLAG_NOATIME
        if ((flags & 0x02000000) != 0) { x |= 0x00008000; }  // FS_DAX_FL -> FS_XFLAG_DAX
        if ((flags & 0x20000000) != 0) { x |= 0x00000200; }  // FS_PROJINHERIT_FL -> FS_XFLAG_PROJINHERIT
        if ((flags & 0x00100000) != 0) { x |= 0x00020000; }  // FS_VERITY_FL -> FS_XFLAG_VERITY
        return x;
    }
}
