using System.Buffers.Binary;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>
/// Damaged images: refused mounts give one clear line; damage found later raises the typed
/// exception (checksum or corruption), never IndexOutOfRange and never a hang.
/// </summary>
public class CorruptionTests
{
    private const int BlockSize = 4096;

    private static TestImage Build(bool csum) => Build(csum ? ["-b", "4096"] : ["-b", "4096", "-O", "^metadata_csum"]);

    private static TestImage Build(string[] mkfsOptions) => TestImage.Build(src =>
    {
        var rng = new Random(7);
        var data = new byte[100_000];
        rng.NextBytes(data);
        File.WriteAllBytes(Path.Combine(src, "f"), data);
        using (var fs = new FileStream(Path.Combine(src, "many"), FileMode.CreateNew))
        {
            for (int i = 0; i < 400; i++)
            {
                fs.Position = (long)i * 2 * BlockSize;
                fs.WriteByte(1);
            }
        }

        Directory.CreateDirectory(Path.Combine(src, "d"));
        for (int i = 0; i < 50; i++)
        {
            File.WriteAllText(Path.Combine(src, "d", $"file-{i:D3}"), "x");
        }

        File.CreateSymbolicLink(Path.Combine(src, "sym300"), new string('s', 300));
        File.WriteAllText(Path.Combine(src, "xa"), "x");
        Tool.Check("setfattr", "-n", "user.big", "-v", new string('v', 600), Path.Combine(src, "xa"));
    }, "16M", mkfsOptions);

    /// <summary>Applies <paramref name="edit"/> to the superblock and re-seals its checksum.</summary>
    private static void EditSuperblock(TestImage image, Action<byte[]> edit, bool reseal = true)
    {
        var sb = image.ReadImage(SuperblockLayout.Offset, SuperblockLayout.Size);
        edit(sb);
        if (reseal)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(SuperblockLayout.s_checksum), Crc32c.Append(~0u, sb.AsSpan(0, SuperblockLayout.s_checksum)));
        }

        image.Patch(SuperblockLayout.Offset, sb);
    }

    private static void SetBits(byte[] sb, int field, uint bits) =>
        BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(field), BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(field)) | bits);

    private static string MountError(TestImage image)
    {
        var e = Assert.Throws<Ext4MountException>(() => image.Open().Dispose())!;
        Assert.That(e.Message, Does.Not.Contain('\n'), "one line for the user");
        return e.Message;
    }

    [Test]
    public void SuperblockByteFlipFailsTheChecksum()
    {
        using var image = Build(csum: true);
        EditSuperblock(image, sb => sb[SuperblockLayout.s_volume_name] ^= 0x20, reseal: false);
        Assert.That(MountError(image), Does.Contain("superblock checksum mismatch"));
    }

    [Test]
    public void BadMagic()
    {
        using var image = Build(csum: false);
        EditSuperblock(image, sb => sb[SuperblockLayout.s_magic] = 0x00, reseal: false);
        Assert.That(MountError(image), Is.EqualTo("not an ext2/ext3/ext4 filesystem (bad superblock magic)"));
    }

    [Test]
    public void UnknownIncompatFeatureIsNamedInHex()
    {
        using var image = Build(csum: true);
        EditSuperblock(image, sb => SetBits(sb, SuperblockLayout.s_feature_incompat, 0x80000000));
        Assert.That(MountError(image), Is.EqualTo("unsupported ext4 feature: 0x80000000"));
    }

    [Test]
    public void KnownUnsupportedIncompatFeatureIsNamed()
    {
        using var image = Build(csum: true);
        EditSuperblock(image, sb => SetBits(sb, SuperblockLayout.s_feature_incompat, Ext4Features.INCOMPAT_ENCRYPT | Ext4Features.INCOMPAT_CASEFOLD));
        Assert.That(MountError(image), Is.EqualTo("unsupported ext4 feature: encrypt casefold"));
    }

    [Test]
    public void NeedsRecoveryWithAnEmptyJournalOpensWithoutTouchingTheDevice()
    {
        // needs_recovery with a clean journal (s_start 0): nothing to replay, as in the kernel;
        // the flag is cleared in memory only.
        using var image = Build(csum: true);
        EditSuperblock(image, sb => SetBits(sb, SuperblockLayout.s_feature_incompat, Ext4Features.INCOMPAT_RECOVER));
        var before = File.ReadAllBytes(image.ImagePath);
        using (var opened = image.Open())
        {
            Assert.That(opened.Volume.Warnings, Is.EqualTo(new[]
            {
                "journal replayed into memory (read-only; the device was not modified): the journal was empty",
            }));
            Assert.That(PathWalk.Resolve(opened.Volume, "d/file-007"), Is.Not.EqualTo(0u));
        }

        Assert.That(File.ReadAllBytes(image.ImagePath), Is.EqualTo(before));
    }

    [Test]
    public void NeedsRecoveryWithoutAJournalIsRefused()
    {
        using var image = Build(["-b", "4096", "-O", "^has_journal"]);
        EditSuperblock(image, sb => SetBits(sb, SuperblockLayout.s_feature_incompat, Ext4Features.INCOMPAT_RECOVER));
        Assert.That(MountError(image), Is.EqualTo("needs_recovery is set but the file system has no journal"));
    }

    [Test]
    public void UnknownRoCompatForcesReadOnlyWithAWarning()
    {
        using var image = Build(csum: true);
        EditSuperblock(image, sb => SetBits(sb, SuperblockLayout.s_feature_ro_compat, 0x40000000));
        using var handle = File.OpenHandle(image.ImagePath);
        using var device = new Storage.FileBlockDevice(handle, RandomAccess.GetLength(handle));
        using var v = Ext4Volume.Open(device, new Ext4OpenOptions { ReadOnly = false });
        Assert.That(v.IsReadOnly, Is.True);
        Assert.That(v.Warnings, Is.EqualTo(new[] { "unknown ro_compat feature 0x40000000, mounted read-only" }));
        Assert.That(PathWalk.Resolve(v, "d/file-007"), Is.Not.EqualTo(0u), "still readable");
    }

    [Test]
    public void TruncatedImageNamesBothSizes()
    {
        using var image = Build(csum: true);
        using (var fs = new FileStream(image.ImagePath, FileMode.Open))
        {
            fs.SetLength(10 << 20);
        }

        string m = MountError(image);
        Assert.That(m, Does.Contain("truncated").And.Contain((16 << 20).ToString()).And.Contain((10 << 20).ToString()));
    }

    [Test]
    public void TinyDevice([Values(0, 1500)] int size)
    {
        using var image = Build(csum: true);
        using (var fs = new FileStream(image.ImagePath, FileMode.Open))
        {
            fs.SetLength(size);
        }

        Assert.That(MountError(image), Does.StartWith("not an ext2/ext3/ext4 filesystem"));
    }

    [Test]
    public void GroupDescriptorChecksum([Values("metadata_csum", "^metadata_csum,uninit_bg")] string features)
    {
        using var image = Build(["-b", "4096", "-O", features]);
        // The descriptor table starts in block 1 (4 KiB blocks); bg_free_inodes_count_lo of group 0.
        long at = BlockSize + GroupDescriptor.bg_free_inodes_count_lo;
        var b = image.ReadImage(at, 1);
        image.Patch(at, [(byte)(b[0] ^ 1)]);
        Assert.That(MountError(image), Does.StartWith("group descriptor 0 checksum mismatch"));
    }

    [Test]
    public void InodeChecksum()
    {
        using var image = Build(csum: true);
        using (var v0 = image.Open())
        {
            _ = PathWalk.Inode(v0.Volume, "f");
        }

        uint ino = Resolve(image, "f");
        long at = Locate.Inode(image.ImagePath, ino, BlockSize);
        image.Patch(at + InodeLayout.i_uid, [0x55]);
        using var v = image.Open();
        var e = Assert.Throws<Ext4ChecksumException>(() => v.Volume.ReadInode(ino))!;
        Assert.That(e.Message, Does.Contain($"inode {ino}"));
    }

    [Test]
    public void InodeWithBadExtraIsize()
    {
        using var image = Build(csum: false);
        uint ino = Resolve(image, "f");
        long at = Locate.Inode(image.ImagePath, ino, BlockSize);
        image.Patch(at + InodeLayout.i_extra_isize, [0x2C, 0x01]); // 300 > 256 - 128
        using var v = image.Open();
        var e = Assert.Throws<Ext4CorruptionException>(() => v.Volume.ReadInode(ino))!;
        Assert.That(e.Message, Does.Contain("i_extra_isize"));
    }

    [Test]
    public void ExtentRootWithBadMagic()
    {
        using var image = Build(csum: false);
        uint ino = Resolve(image, "f");
        long at = Locate.Inode(image.ImagePath, ino, BlockSize);
        image.Patch(at + InodeLayout.i_block + ExtentLayout.eh_magic, [0x00, 0x00]);
        using var v = image.Open();
        var inode = v.Volume.ReadInode(ino);
        var e = Assert.Throws<Ext4CorruptionException>(() => v.Volume.Read(inode, 0, new byte[10]))!;
        Assert.That(e.Message, Does.Contain("magic"));
    }

    [Test]
    public void ExtentRootWithTooManyEntries()
    {
        using var image = Build(csum: false);
        uint ino = Resolve(image, "many");
        long at = Locate.Inode(image.ImagePath, ino, BlockSize);
        image.Patch(at + InodeLayout.i_block + ExtentLayout.eh_entries, [0x09, 0x00]);
        using var v = image.Open();
        var inode = v.Volume.ReadInode(ino);
        Assert.Throws<Ext4CorruptionException>(() => v.Volume.Read(inode, 0, new byte[10]));
    }

    [Test]
    public void ExtentBlockCorruption([Values(false, true)] bool csum)
    {
        using var image = Build(csum);
        var etb = Locate.ExtentTreeBlocks(image.ImagePath, "/many");
        Assert.That(etb, Is.Not.Empty, "the file has an extent block");
        // eh_entries beyond eh_max.
        image.Patch((etb[0] * BlockSize) + ExtentLayout.eh_entries, [0xFF, 0x7F]);
        using var v = image.Open();
        var inode = PathWalk.Inode(v.Volume, "many");
        // The header is judged before the checksum (as the kernel's __ext4_ext_check does).
        var e = Assert.Throws<Ext4CorruptionException>(() => PathWalk.ReadAll(v.Volume, inode))!;
        Assert.That(e.Message, Does.Contain("bad extent header").And.Contain($"extent block {etb[0]}"));
    }

    [Test]
    public void ExtentBlockChecksumOnly()
    {
        using var image = Build(csum: true);
        var etb = Locate.ExtentTreeBlocks(image.ImagePath, "/many");
        // A physical start byte of the first extent: structurally fine, checksum wrong.
        long at = (etb[0] * BlockSize) + ExtentLayout.EntrySize + ExtentLayout.ee_start_lo;
        var b = image.ReadImage(at, 1);
        image.Patch(at, [(byte)(b[0] ^ 1)]);
        using var v = image.Open();
        var inode = PathWalk.Inode(v.Volume, "many");
        Assert.Throws<Ext4ChecksumException>(() => PathWalk.ReadAll(v.Volume, inode));
    }

    [Test]
    public void DirectoryBlockChecksum()
    {
        using var image = Build(csum: true);
        long block = Locate.Block(image.ImagePath, "/d", 0);
        image.Patch((block * BlockSize) + 40, "Z"u8); // inside a name
        using var v = image.Open();
        var d = PathWalk.Inode(v.Volume, "d");
        Assert.Throws<Ext4ChecksumException>(() => v.Volume.ReadDirectory(d));
        Assert.Throws<Ext4ChecksumException>(() => v.Volume.Lookup(d, "file-000"u8));
    }

    [Test]
    public void DirectoryEntryWithBadRecLen([Values(3, 0, 8, 6000)] int recLen)
    {
        using var image = Build(csum: false);
        long block = Locate.Block(image.ImagePath, "/d", 0);
        // The third record (after "." and ".." at 12 bytes each) gets a bad rec_len.
        var le = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(le, (ushort)recLen);
        image.Patch((block * BlockSize) + 24 + DirEntryLayout.rec_len, le);
        using var v = image.Open();
        var d = PathWalk.Inode(v.Volume, "d");
        var e = Assert.Throws<Ext4CorruptionException>(() => v.Volume.ReadDirectory(d))!;
        Assert.That(e.Message, Does.Contain("bad entry"));
        Assert.Throws<Ext4CorruptionException>(() => v.Volume.Lookup(d, "no-such"u8));
    }

    [Test]
    public void DirectoryEntryNameOverrunsRecord()
    {
        using var image = Build(csum: false);
        long block = Locate.Block(image.ImagePath, "/d", 0);
        image.Patch((block * BlockSize) + 24 + DirEntryLayout.name_len, [200]);
        using var v = image.Open();
        var d = PathWalk.Inode(v.Volume, "d");
        Assert.Throws<Ext4CorruptionException>(() => v.Volume.ReadDirectory(d));
    }

    [Test]
    public void XattrBlockChecksumAndMagic([Values(false, true)] bool csum)
    {
        using var image = Build(csum);
        uint ino = Resolve(image, "xa");
        ulong acl;
        using (var v0 = image.Open())
        {
            acl = v0.Volume.ReadInode(ino).FileAcl;
        }

        Assert.That(acl, Is.Not.EqualTo(0UL));
        image.Patch(((long)acl * BlockSize) + XattrLayout.h_magic, [0, 0, 0, 0]);
        using var v = image.Open();
        var inode = v.Volume.ReadInode(ino);
        Assert.Throws<Ext4CorruptionException>(() => v.Volume.ListXattrNames(inode));
        Assert.Throws<Ext4CorruptionException>(() => v.Volume.GetXattr(inode, "user.big"));
    }

    [Test]
    public void XattrValueOutsideTheBlock()
    {
        using var image = Build(csum: false);
        uint ino = Resolve(image, "xa");
        ulong acl;
        using (var v0 = image.Open())
        {
            acl = v0.Volume.ReadInode(ino).FileAcl;
        }

        // First entry's e_value_size made huge.
        image.Patch(((long)acl * BlockSize) + XattrLayout.BlockHeaderSize + XattrLayout.e_value_size, [0xFF, 0xFF, 0x00, 0x00]);
        using var v = image.Open();
        var e = Assert.Throws<Ext4CorruptionException>(() => v.Volume.GetXattr(v.Volume.ReadInode(ino), "user.big"))!;
        Assert.That(e.Message, Does.Contain("outside"));
    }

    [Test]
    public void InodeNumberOutOfRange()
    {
        using var image = Build(csum: true);
        using var v = image.Open();
        Assert.Throws<Ext4CorruptionException>(() => v.Volume.ReadInode(0));
        Assert.Throws<Ext4CorruptionException>(() => v.Volume.ReadInode(uint.MaxValue));
    }

    private static uint Resolve(TestImage image, string path)
    {
        using var v = image.Open();
        uint ino = PathWalk.Resolve(v.Volume, path);
        Assert.That(ino, Is.Not.EqualTo(0u));
        return ino;
    }
}
