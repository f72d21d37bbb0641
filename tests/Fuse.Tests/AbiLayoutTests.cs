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

        // fuse-iomap v7 (FUSE-PROTOCOL.md §2.4, PART 5: 32, 32, 64, 72, 48, 8, 64, 104, 24, 48, 80).
        (typeof(FuseIomapIo), 32),
        (typeof(FuseIomapBeginIn), 32),
        (typeof(FuseIomapBeginOut), 64),
        (typeof(FuseIomapEndIn), 72),
        (typeof(FuseIomapIoendIn), 48),
        (typeof(FuseIomapIoendOut), 8),
        (typeof(FuseIomapConfigIn), 64),
        (typeof(FuseIomapConfigOut), 104),
        (typeof(FuseRange), 16),
        (typeof(FuseIomapDevInvalOut), 24),
        (typeof(FuseIomapInvalMappingsOut), 48),
        (typeof(FuseIomapUpsertMappingsOut), 80),
        (typeof(FuseFreezefsIn), 8),
        (typeof(FuseShutdownfsIn), 8),
        (typeof(Safemount.Shared.Interop.fuse_iomap_support), 16),
        (typeof(Safemount.Shared.Interop.fuse_backing_map), 16),
        (typeof(Safemount.Shared.Interop.fuse_iomap_backing_info), 8),
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
        (typeof(FuseIomapIo), "Offset", 0), (typeof(FuseIomapIo), "Length", 8), (typeof(FuseIomapIo), "Addr", 16), (typeof(FuseIomapIo), "Type", 24),
        (typeof(FuseIomapIo), "Flags", 26), (typeof(FuseIomapIo), "Dev", 28),
        (typeof(FuseIomapBeginIn), "Opflags", 0), (typeof(FuseIomapBeginIn), "Reserved", 4), (typeof(FuseIomapBeginIn), "AttrIno", 8),
        (typeof(FuseIomapBeginIn), "Pos", 16), (typeof(FuseIomapBeginIn), "Count", 24),
        (typeof(FuseIomapBeginOut), "Read", 0), (typeof(FuseIomapBeginOut), "Write", 32),
        (typeof(FuseIomapEndIn), "Opflags", 0), (typeof(FuseIomapEndIn), "Reserved", 4), (typeof(FuseIomapEndIn), "AttrIno", 8), (typeof(FuseIomapEndIn), "Pos", 16),
        (typeof(FuseIomapEndIn), "Count", 24), (typeof(FuseIomapEndIn), "Written", 32), (typeof(FuseIomapEndIn), "Map", 40),
        (typeof(FuseIomapIoendIn), "Flags", 0), (typeof(FuseIomapIoendIn), "Error", 4), (typeof(FuseIomapIoendIn), "AttrIno", 8), (typeof(FuseIomapIoendIn), "Pos", 16),
        (typeof(FuseIomapIoendIn), "NewAddr", 24), (typeof(FuseIomapIoendIn), "Written", 32), (typeof(FuseIomapIoendIn), "Dev", 40), (typeof(FuseIomapIoendIn), "Pad", 44),
        (typeof(FuseIomapIoendOut), "Newsize", 0),
        (typeof(FuseIomapConfigIn), "Flags", 0), (typeof(FuseIomapConfigIn), "Maxbytes", 8), (typeof(FuseIomapConfigIn), "CacheMaxbytes", 16),
        (typeof(FuseIomapConfigIn), "Zero", 20), (typeof(FuseIomapConfigIn), "Padding0", 24), (typeof(FuseIomapConfigIn), "Padding4", 56),
        (typeof(FuseIomapConfigOut), "Flags", 0), (typeof(FuseIomapConfigOut), "SId0", 8), (typeof(FuseIomapConfigOut), "SUuid0", 40),
        (typeof(FuseIomapConfigOut), "SUuidLen", 56), (typeof(FuseIomapConfigOut), "SPad0", 57), (typeof(FuseIomapConfigOut), "SBlocksize", 60),
        (typeof(FuseIomapConfigOut), "SMaxLinks", 64), (typeof(FuseIomapConfigOut), "STimeGran", 68), (typeof(FuseIomapConfigOut), "STimeMin", 72),
        (typeof(FuseIomapConfigOut), "STimeMax", 80), (typeof(FuseIomapConfigOut), "SMaxbytes", 88), (typeof(FuseIomapConfigOut), "CacheMaxbytes", 96),
        (typeof(FuseRange), "Offset", 0), (typeof(FuseRange), "Length", 8),
        (typeof(FuseIomapDevInvalOut), "Dev", 0), (typeof(FuseIomapDevInvalOut), "Reserved", 4), (typeof(FuseIomapDevInvalOut), "Range", 8),
        (typeof(FuseIomapInvalMappingsOut), "Nodeid", 0), (typeof(FuseIomapInvalMappingsOut), "AttrIno", 8), (typeof(FuseIomapInvalMappingsOut), "Read", 16),
        (typeof(FuseIomapInvalMappingsOut), "Write", 32),
        (typeof(FuseIomapUpsertMappingsOut), "Nodeid", 0), (typeof(FuseIomapUpsertMappingsOut), "AttrIno", 8), (typeof(FuseIomapUpsertMappingsOut), "Read", 16),
        (typeof(FuseIomapUpsertMappingsOut), "Write", 48),
        (typeof(FuseFreezefsIn), "Unlinked", 0), (typeof(FuseShutdownfsIn), "Flags", 0),
        (typeof(Safemount.Shared.Interop.fuse_iomap_support), "flags", 0), (typeof(Safemount.Shared.Interop.fuse_iomap_support), "padding", 8),
        (typeof(Safemount.Shared.Interop.fuse_backing_map), "fd", 0), (typeof(Safemount.Shared.Interop.fuse_backing_map), "flags", 4),
        (typeof(Safemount.Shared.Interop.fuse_backing_map), "padding", 8),
        (typeof(Safemount.Shared.Interop.fuse_iomap_backing_info), "backing_id", 0), (typeof(Safemount.Shared.Interop.fuse_iomap_backing_info), "blocksize", 4),
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

    [Test]
    public void IomapNumbersMatchTheV7Uapi()
    {
        // §2.3 opcodes, §2.5 notify codes and flags, §2.6 ioctl numbers.
        Assert.That(Enumerable.Range(4089, 7).Select(i => Enum.GetName((FuseOpcode)i)), Is.EqualTo(new[]
        {
            "FUSE_FREEZE_FS", "FUSE_UNFREEZE_FS", "FUSE_SHUTDOWN_FS", "FUSE_IOMAP_CONFIG", "FUSE_IOMAP_IOEND", "FUSE_IOMAP_BEGIN", "FUSE_IOMAP_END",
        }));
        Assert.That((int)FuseNotifyCode.FUSE_NOTIFY_IOMAP_DEV_INVAL, Is.EqualTo(99));
        Assert.That((int)FuseNotifyCode.FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS, Is.EqualTo(100));
        Assert.That((int)FuseNotifyCode.FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS, Is.EqualTo(101));
        Assert.That((ulong)FuseInitFlags.FUSE_IOMAP, Is.EqualTo(1UL << 43));
        Assert.That(FuseAbi.FUSE_IOMAP_MINOR_VERSION, Is.EqualTo(99));
        Assert.That(FuseAbi.FUSE_ATTR_EXCLUSIVE, Is.EqualTo(4));
        Assert.That(FuseAbi.FUSE_ATTR_IOMAP, Is.EqualTo(8));
        Assert.That(new[] { FuseIomapType.FUSE_IOMAP_TYPE_HOLE, FuseIomapType.FUSE_IOMAP_TYPE_DELALLOC, FuseIomapType.FUSE_IOMAP_TYPE_MAPPED, FuseIomapType.FUSE_IOMAP_TYPE_UNWRITTEN, FuseIomapType.FUSE_IOMAP_TYPE_INLINE, FuseIomapType.FUSE_IOMAP_TYPE_NOCACHE, FuseIomapType.FUSE_IOMAP_TYPE_RETRY_CACHE, FuseIomapType.FUSE_IOMAP_TYPE_PURE_OVERWRITE }.Select(t => (int)t),
            Is.EqualTo(new[] { 0, 1, 2, 3, 4, 253, 254, 255 }));
        Assert.That((ushort)FuseIomapFlags.FUSE_IOMAP_F_WANT_IOMAP_END, Is.EqualTo(1 << 7));
        Assert.That((ushort)FuseIomapFlags.FUSE_IOMAP_F_SIZE_CHANGED, Is.EqualTo(1 << 8));
        Assert.That((ushort)FuseIomapFlags.FUSE_IOMAP_F_STALE, Is.EqualTo(1 << 9));
        Assert.That((ushort)FuseIomapFlags.ReplyMask, Is.EqualTo(0xFF));
        Assert.That((uint)FuseIomapOp.FUSE_IOMAP_OP_REPORT, Is.EqualTo(1U << 2));
        Assert.That((uint)FuseIomapOp.FUSE_IOMAP_OP_DONTCACHE, Is.EqualTo(1U << 10));
        Assert.That((uint)FuseIomapOp.FUSE_IOMAP_OP_SWAPFILE, Is.EqualTo(1U << 30));
        Assert.That((uint)FuseIomapOp.FUSE_IOMAP_OP_WRITEBACK, Is.EqualTo(1U << 31));
        Assert.That((uint)FuseIomapOp.WriteMask, Is.EqualTo(0x80000083U));
        Assert.That((uint)FuseIomapIoendFlags.FUSE_IOMAP_IOEND_APPEND, Is.EqualTo(1U << 4));
        Assert.That((uint)FuseIomapIoendFlags.FUSE_IOMAP_IOEND_SWAPOFF, Is.EqualTo(1U << 6));
        Assert.That((ulong)FuseIomapConfigFlags.FUSE_IOMAP_CONFIG_CACHE_MAXBYTES, Is.EqualTo(1UL << 6));
        Assert.That(FuseAbi.FUSE_IOMAP_NULL_ADDR, Is.EqualTo(ulong.MaxValue));
        Assert.That(FuseAbi.FUSE_IOMAP_CACHE_DEFAULT_MAXBYTES, Is.EqualTo(262144));
        Assert.That(FuseAbi.FUSE_IOMAP_CACHE_MAX_MAXBYTES, Is.EqualTo(2097152));
        Assert.That(Safemount.Shared.Interop.IoctlNumbers.FUSE_DEV_IOC_IOMAP_SUPPORT, Is.EqualTo(Ioc(2, 99, 16)));
        Assert.That(Safemount.Shared.Interop.IoctlNumbers.FUSE_DEV_IOC_ADD_IOMAP, Is.EqualTo(Ioc(0, 101, 0)));
        Assert.That(Safemount.Shared.Interop.IoctlNumbers.FUSE_DEV_IOC_IOMAP_SET_BLOCKSIZE, Is.EqualTo(Ioc(1, 102, 8)));
        Assert.That(Safemount.Shared.Interop.IoctlNumbers.FUSE_DEV_IOC_BACKING_OPEN, Is.EqualTo(Ioc(1, 1, 16)));
        Assert.That(Safemount.Shared.Interop.fuse_backing_map.FUSE_BACKING_TYPE_IOMAP, Is.EqualTo(1));
    }

    /// <summary>_IOC(dir, 229, nr, size) of include/uapi/asm-generic/ioctl.h: dir 0 none, 1 write, 2 read.</summary>
    private static ulong Ioc(uint dir, uint nr, uint size) => ((ulong)dir << 30) | ((ulong)size << 16) | (229UL << 8) | nr;
}
