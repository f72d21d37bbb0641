using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Safemount.Fuse.Abi;

namespace Safemount.Fuse.Tests;

/// <summary>Pins every struct size and field offset against fuse_kernel.h 7.45 as gcc lays it
/// out on x86_64 (FUSE-PROTOCOL.md §1.1-1.4).</summary>
public class AbiLayoutTests
{
    private static readonly (Type Type, int Size)[] Sizes =
    [
        (typeof(FuseInHeader), 40),
        (typeof(FuseOutHeader), 16),
        (typeof(FuseInitIn), 64),
        (typeof(FuseInitOut), 64),
        (typeof(FuseAttr), 88),
        (typeof(FuseEntryOut), 128),
        (typeof(FuseAttrOut), 104),
        (typeof(FuseGetattrIn), 16),
        (typeof(FuseOpenIn), 8),
        (typeof(FuseOpenOut), 16),
        (typeof(FuseReadIn), 40),
        (typeof(FuseWriteIn), 40),
        (typeof(FuseReleaseIn), 24),
        (typeof(FuseFlushIn), 24),
        (typeof(FuseFsyncIn), 16),
        (typeof(FuseForgetIn), 8),
        (typeof(FuseBatchForgetIn), 8),
        (typeof(FuseForgetOne), 16),
        (typeof(FuseKstatfs), 80),
        (typeof(FuseDirent), 24),
        (typeof(FuseGetxattrIn), 8),
        (typeof(FuseGetxattrOut), 8),
        (typeof(FuseAccessIn), 8),
        (typeof(FuseIoctlIn), 32),
        (typeof(FuseIoctlOut), 16),
        (typeof(FuseInterruptIn), 8),
        (typeof(FuseSyncfsIn), 8),
        (typeof(FuseStatxIn), 24),
        (typeof(FuseSxTime), 16),
        (typeof(FuseStatx), 256),
        (typeof(FuseStatxOut), 288),
        (typeof(FuseSetattrIn), 88),
        (typeof(FuseMknodIn), 16),
        (typeof(FuseMkdirIn), 8),
        (typeof(FuseRenameIn), 8),
        (typeof(FuseRename2In), 16),
        (typeof(FuseLinkIn), 8),
        (typeof(FuseCreateIn), 16),
        (typeof(FuseWriteOut), 8),
        (typeof(FuseSetxattrIn), 16),
        (typeof(FuseFallocateIn), 32),
        (typeof(FuseLseekIn), 24),
        (typeof(FuseLseekOut), 8),
        (typeof(FuseCopyFileRangeIn), 56),
        (typeof(FuseCopyFileRangeOut), 8),
        (typeof(FuseNotifyInvalInodeOut), 24),
        (typeof(FuseNotifyInvalEntryOut), 16),
        (typeof(FuseNotifyDeleteOut), 24),
    ];

    private static readonly (Type Type, string Field, int Offset)[] Offsets =
    [
        (typeof(FuseInHeader), "Len", 0), (typeof(FuseInHeader), "Opcode", 4), (typeof(FuseInHeader), "Unique", 8),
        (typeof(FuseInHeader), "Nodeid", 16), (typeof(FuseInHeader), "Uid", 24), (typeof(FuseInHeader), "Gid", 28),
        (typeof(FuseInHeader), "Pid", 32), (typeof(FuseInHeader), "TotalExtlen", 36), (typeof(FuseInHeader), "Padding", 38),
        (typeof(FuseOutHeader), "Len", 0), (typeof(FuseOutHeader), "Error", 4), (typeof(FuseOutHeader), "Unique", 8),
        (typeof(FuseInitIn), "Major", 0), (typeof(FuseInitIn), "Minor", 4), (typeof(FuseInitIn), "MaxReadahead", 8),
        (typeof(FuseInitIn), "Flags", 12), (typeof(FuseInitIn), "Flags2", 16),
        (typeof(FuseInitOut), "Major", 0), (typeof(FuseInitOut), "Minor", 4), (typeof(FuseInitOut), "MaxReadahead", 8),
        (typeof(FuseInitOut), "Flags", 12), (typeof(FuseInitOut), "MaxBackground", 16), (typeof(FuseInitOut), "CongestionThreshold", 18),
        (typeof(FuseInitOut), "MaxWrite", 20), (typeof(FuseInitOut), "TimeGran", 24), (typeof(FuseInitOut), "MaxPages", 28),
        (typeof(FuseInitOut), "MapAlignment", 30), (typeof(FuseInitOut), "Flags2", 32), (typeof(FuseInitOut), "MaxStackDepth", 36),
        (typeof(FuseInitOut), "RequestTimeout", 40),
        (typeof(FuseAttr), "Ino", 0), (typeof(FuseAttr), "Size", 8), (typeof(FuseAttr), "Blocks", 16), (typeof(FuseAttr), "Atime", 24),
        (typeof(FuseAttr), "Mtime", 32), (typeof(FuseAttr), "Ctime", 40), (typeof(FuseAttr), "AtimeNsec", 48), (typeof(FuseAttr), "MtimeNsec", 52),
        (typeof(FuseAttr), "CtimeNsec", 56), (typeof(FuseAttr), "Mode", 60), (typeof(FuseAttr), "Nlink", 64), (typeof(FuseAttr), "Uid", 68),
        (typeof(FuseAttr), "Gid", 72), (typeof(FuseAttr), "Rdev", 76), (typeof(FuseAttr), "Blksize", 80), (typeof(FuseAttr), "Flags", 84),
        (typeof(FuseEntryOut), "Nodeid", 0), (typeof(FuseEntryOut), "Generation", 8), (typeof(FuseEntryOut), "EntryValid", 16),
        (typeof(FuseEntryOut), "AttrValid", 24), (typeof(FuseEntryOut), "EntryValidNsec", 32), (typeof(FuseEntryOut), "AttrValidNsec", 36),
        (typeof(FuseEntryOut), "Attr", 40),
        (typeof(FuseAttrOut), "AttrValid", 0), (typeof(FuseAttrOut), "AttrValidNsec", 8), (typeof(FuseAttrOut), "Attr", 16),
        (typeof(FuseOpenOut), "Fh", 0), (typeof(FuseOpenOut), "OpenFlags", 8), (typeof(FuseOpenOut), "BackingId", 12),
        (typeof(FuseReadIn), "Fh", 0), (typeof(FuseReadIn), "Offset", 8), (typeof(FuseReadIn), "Size", 16), (typeof(FuseReadIn), "ReadFlags", 20),
        (typeof(FuseReadIn), "LockOwner", 24), (typeof(FuseReadIn), "Flags", 32),
        (typeof(FuseReleaseIn), "Fh", 0), (typeof(FuseReleaseIn), "Flags", 8), (typeof(FuseReleaseIn), "ReleaseFlags", 12), (typeof(FuseReleaseIn), "LockOwner", 16),
        (typeof(FuseFlushIn), "Fh", 0), (typeof(FuseFlushIn), "LockOwner", 16),
        (typeof(FuseFsyncIn), "Fh", 0), (typeof(FuseFsyncIn), "FsyncFlags", 8),
        (typeof(FuseForgetOne), "Nodeid", 0), (typeof(FuseForgetOne), "Nlookup", 8),
        (typeof(FuseKstatfs), "Blocks", 0), (typeof(FuseKstatfs), "Bfree", 8), (typeof(FuseKstatfs), "Bavail", 16), (typeof(FuseKstatfs), "Files", 24),
        (typeof(FuseKstatfs), "Ffree", 32), (typeof(FuseKstatfs), "Bsize", 40), (typeof(FuseKstatfs), "Namelen", 44), (typeof(FuseKstatfs), "Frsize", 48),
        (typeof(FuseDirent), "Ino", 0), (typeof(FuseDirent), "Off", 8), (typeof(FuseDirent), "Namelen", 16), (typeof(FuseDirent), "Type", 20),
        (typeof(FuseStatxIn), "GetattrFlags", 0), (typeof(FuseStatxIn), "Fh", 8), (typeof(FuseStatxIn), "SxFlags", 16), (typeof(FuseStatxIn), "SxMask", 20),
        (typeof(FuseStatx), "Mask", 0), (typeof(FuseStatx), "Blksize", 4), (typeof(FuseStatx), "Attributes", 8), (typeof(FuseStatx), "Nlink", 16),
        (typeof(FuseStatx), "Uid", 20), (typeof(FuseStatx), "Gid", 24), (typeof(FuseStatx), "Mode", 28), (typeof(FuseStatx), "Ino", 32),
        (typeof(FuseStatx), "Size", 40), (typeof(FuseStatx), "Blocks", 48), (typeof(FuseStatx), "AttributesMask", 56), (typeof(FuseStatx), "Atime", 64),
        (typeof(FuseStatx), "Btime", 80), (typeof(FuseStatx), "Ctime", 96), (typeof(FuseStatx), "Mtime", 112), (typeof(FuseStatx), "RdevMajor", 128),
        (typeof(FuseStatx), "RdevMinor", 132), (typeof(FuseStatx), "DevMajor", 136), (typeof(FuseStatx), "DevMinor", 140),
        (typeof(FuseStatxOut), "AttrValid", 0), (typeof(FuseStatxOut), "AttrValidNsec", 8), (typeof(FuseStatxOut), "Flags", 12), (typeof(FuseStatxOut), "Stat", 32),
        (typeof(FuseSetattrIn), "Valid", 0), (typeof(FuseSetattrIn), "Padding", 4), (typeof(FuseSetattrIn), "Fh", 8), (typeof(FuseSetattrIn), "Size", 16),
        (typeof(FuseSetattrIn), "LockOwner", 24), (typeof(FuseSetattrIn), "Atime", 32), (typeof(FuseSetattrIn), "Mtime", 40), (typeof(FuseSetattrIn), "Ctime", 48),
        (typeof(FuseSetattrIn), "Atimensec", 56), (typeof(FuseSetattrIn), "Mtimensec", 60), (typeof(FuseSetattrIn), "Ctimensec", 64), (typeof(FuseSetattrIn), "Mode", 68),
        (typeof(FuseSetattrIn), "Unused4", 72), (typeof(FuseSetattrIn), "Uid", 76), (typeof(FuseSetattrIn), "Gid", 80), (typeof(FuseSetattrIn), "Unused5", 84),
        (typeof(FuseMknodIn), "Mode", 0), (typeof(FuseMknodIn), "Rdev", 4), (typeof(FuseMknodIn), "Umask", 8), (typeof(FuseMknodIn), "Padding", 12),
        (typeof(FuseMkdirIn), "Mode", 0), (typeof(FuseMkdirIn), "Umask", 4),
        (typeof(FuseRenameIn), "Newdir", 0),
        (typeof(FuseRename2In), "Newdir", 0), (typeof(FuseRename2In), "Flags", 8), (typeof(FuseRename2In), "Padding", 12),
        (typeof(FuseLinkIn), "Oldnodeid", 0),
        (typeof(FuseCreateIn), "Flags", 0), (typeof(FuseCreateIn), "Mode", 4), (typeof(FuseCreateIn), "Umask", 8), (typeof(FuseCreateIn), "OpenFlags", 12),
        (typeof(FuseWriteIn), "Fh", 0), (typeof(FuseWriteIn), "Offset", 8), (typeof(FuseWriteIn), "Size", 16), (typeof(FuseWriteIn), "WriteFlags", 20),
        (typeof(FuseWriteIn), "LockOwner", 24), (typeof(FuseWriteIn), "Flags", 32), (typeof(FuseWriteIn), "Padding", 36),
        (typeof(FuseWriteOut), "Size", 0), (typeof(FuseWriteOut), "Padding", 4),
        (typeof(FuseSetxattrIn), "Size", 0), (typeof(FuseSetxattrIn), "Flags", 4), (typeof(FuseSetxattrIn), "SetxattrFlags", 8), (typeof(FuseSetxattrIn), "Padding", 12),
        (typeof(FuseFallocateIn), "Fh", 0), (typeof(FuseFallocateIn), "Offset", 8), (typeof(FuseFallocateIn), "Length", 16), (typeof(FuseFallocateIn), "Mode", 24), (typeof(FuseFallocateIn), "Padding", 28),
        (typeof(FuseLseekIn), "Fh", 0), (typeof(FuseLseekIn), "Offset", 8), (typeof(FuseLseekIn), "Whence", 16), (typeof(FuseLseekIn), "Padding", 20),
        (typeof(FuseLseekOut), "Offset", 0),
        (typeof(FuseCopyFileRangeIn), "FhIn", 0), (typeof(FuseCopyFileRangeIn), "OffIn", 8), (typeof(FuseCopyFileRangeIn), "NodeidOut", 16), (typeof(FuseCopyFileRangeIn), "FhOut", 24),
        (typeof(FuseCopyFileRangeIn), "OffOut", 32), (typeof(FuseCopyFileRangeIn), "Len", 40), (typeof(FuseCopyFileRangeIn), "Flags", 48),
        (typeof(FuseCopyFileRangeOut), "BytesCopied", 0),
        (typeof(FuseNotifyInvalInodeOut), "Ino", 0), (typeof(FuseNotifyInvalInodeOut), "Off", 8), (typeof(FuseNotifyInvalInodeOut), "Len", 16),
        (typeof(FuseNotifyInvalEntryOut), "Parent", 0), (typeof(FuseNotifyInvalEntryOut), "Namelen", 8), (typeof(FuseNotifyInvalEntryOut), "Flags", 12),
        (typeof(FuseNotifyDeleteOut), "Parent", 0), (typeof(FuseNotifyDeleteOut), "Child", 8), (typeof(FuseNotifyDeleteOut), "Namelen", 16), (typeof(FuseNotifyDeleteOut), "Padding", 20),
    ];

    private static IEnumerable<TestCaseData> SizeCases() => Sizes.Select(s => new TestCaseData(s.Type, s.Size).SetArgDisplayNames(s.Type.Name, s.Size.ToString()));

    private static IEnumerable<TestCaseData> OffsetCases() => Offsets.Select(o => new TestCaseData(o.Type, o.Field, o.Offset).SetArgDisplayNames(o.Type.Name, o.Field, o.Offset.ToString()));

    [TestCaseSource(nameof(SizeCases))]
    public void StructSizeMatchesTheKernel(Type type, int size)
    {
        int managed = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
        Assert.That(managed, Is.EqualTo(size));
        Assert.That(Marshal.SizeOf(type), Is.EqualTo(size));
        FieldInfo? sizeOf = type.GetField("SizeOf");
        if (sizeOf is not null)
        {
            Assert.That(sizeOf.GetValue(null), Is.EqualTo(size), "the SizeOf constant");
        }
    }

    [TestCaseSource(nameof(OffsetCases))]
    public void FieldOffsetMatchesTheKernel(Type type, string field, int offset)
    {
        Assert.That((int)Marshal.OffsetOf(type, field), Is.EqualTo(offset));
    }

    [Test]
    public void NameOffsetsAndDirectPlusRecordSizes()
    {
        Assert.That(FuseAbi.FUSE_NAME_OFFSET, Is.EqualTo(Unsafe.SizeOf<FuseDirent>()));
        Assert.That(FuseAbi.FUSE_NAME_OFFSET_DIRENTPLUS, Is.EqualTo(Unsafe.SizeOf<FuseEntryOut>() + Unsafe.SizeOf<FuseDirent>()));
        Assert.That(FuseDirectoryWriter.DirentSize(1), Is.EqualTo(32));
        Assert.That(FuseDirectoryWriter.DirentSize(8), Is.EqualTo(32));
        Assert.That(FuseDirectoryWriter.DirentSize(9), Is.EqualTo(40));
        Assert.That(FuseDirectoryWriter.DirentPlusSize(1), Is.EqualTo(160));
        Assert.That(FuseDirectoryWriter.DirentPlusSize(8), Is.EqualTo(160));
        Assert.That(FuseDirectoryWriter.DirentPlusSize(9), Is.EqualTo(168));
    }

    [Test]
    public void OpcodeAndFlagNumbersMatchTheHeader()
    {
        Assert.That((uint)FuseOpcode.FUSE_INIT, Is.EqualTo(26));
        Assert.That((uint)FuseOpcode.FUSE_READDIRPLUS, Is.EqualTo(44));
        Assert.That((uint)FuseOpcode.FUSE_STATX, Is.EqualTo(52));
        Assert.That((uint)FuseOpcode.FUSE_COPY_FILE_RANGE_64, Is.EqualTo(53));
        Assert.That((ulong)FuseInitFlags.FUSE_MAX_PAGES, Is.EqualTo(1UL << 22));
        Assert.That((ulong)FuseInitFlags.FUSE_INIT_EXT, Is.EqualTo(1UL << 30));
        Assert.That((ulong)FuseInitFlags.FUSE_REQUEST_TIMEOUT, Is.EqualTo(1UL << 42));
        Assert.That((ulong)FuseInitFlags.FUSE_WRITEBACK_CACHE, Is.EqualTo(1UL << 16));
        Assert.That((ulong)FuseInitFlags.FUSE_HANDLE_KILLPRIV_V2, Is.EqualTo(1UL << 28));
        Assert.That((ulong)FuseInitFlags.FUSE_SETXATTR_EXT, Is.EqualTo(1UL << 29));
        Assert.That((uint)FuseOpcode.FUSE_SETATTR, Is.EqualTo(4));
        Assert.That((uint)FuseOpcode.FUSE_CREATE, Is.EqualTo(35));
        Assert.That((uint)FuseOpcode.FUSE_FALLOCATE, Is.EqualTo(43));
        Assert.That((uint)FuseOpcode.FUSE_RENAME2, Is.EqualTo(45));
        Assert.That((uint)FuseOpcode.FUSE_LSEEK, Is.EqualTo(46));
        Assert.That((uint)FuseOpcode.FUSE_TMPFILE, Is.EqualTo(51));
        Assert.That((int)FuseNotifyCode.FUSE_NOTIFY_INVAL_INODE, Is.EqualTo(2));
        Assert.That((int)FuseNotifyCode.FUSE_NOTIFY_INVAL_ENTRY, Is.EqualTo(3));
        Assert.That((int)FuseNotifyCode.FUSE_NOTIFY_DELETE, Is.EqualTo(6));
        Assert.That(FuseAbi.FUSE_COMPAT_SETXATTR_IN_SIZE, Is.EqualTo(8));
        Assert.That(
            new[] { FuseSetAttrValid.FATTR_MODE, FuseSetAttrValid.FATTR_UID, FuseSetAttrValid.FATTR_GID, FuseSetAttrValid.FATTR_SIZE, FuseSetAttrValid.FATTR_ATIME, FuseSetAttrValid.FATTR_MTIME, FuseSetAttrValid.FATTR_FH, FuseSetAttrValid.FATTR_ATIME_NOW, FuseSetAttrValid.FATTR_MTIME_NOW, FuseSetAttrValid.FATTR_LOCKOWNER, FuseSetAttrValid.FATTR_CTIME, FuseSetAttrValid.FATTR_KILL_SUIDGID }.Select(v => (uint)v),
            Is.EqualTo(Enumerable.Range(0, 12).Select(i => 1U << i)), "FATTR_* are bits 0..11 in header order");
        Assert.That((uint)FuseWriteFlags.FUSE_WRITE_CACHE | ((uint)FuseWriteFlags.FUSE_WRITE_LOCKOWNER << 8) | ((uint)FuseWriteFlags.FUSE_WRITE_KILL_SUIDGID << 16), Is.EqualTo(0x040201));
        Assert.That((uint)FuseRenameFlags.RENAME_NOREPLACE | ((uint)FuseRenameFlags.RENAME_EXCHANGE << 8) | ((uint)FuseRenameFlags.RENAME_WHITEOUT << 16), Is.EqualTo(0x040201));
    }
}
