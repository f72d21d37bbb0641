using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// <see cref="XattrLists"/>, <see cref="XattrCodec"/> and <see cref="PosixAcl"/>'s disk form
/// written straight into real images (no metadata_csum, so the bytes alone are the change), then
/// e2fsck -fn (checks every entry hash, value placement) and a read-only kernel mount
/// (getfattr, getfacl: the kernel must find each entry, which for the block needs the sorted order).
/// </summary>
public class XattrCodecTests
{
    private static TestImage Image(string blockSize) => TestImage.Build(
        src => File.WriteAllText(Path.Combine(src, "f"), "hi"), "32M", "-O", "^metadata_csum", "-I", "256", "-b", blockSize);

    private static (long Offset, int Size) InodeLocation(Ext4Volume v, uint ino)
    {
        uint ipg = v.Sb.s_inodes_per_group;
        var gd = v.Groups[(ino - 1) / ipg];
        return ((long)(gd.bg_inode_table * v.BlockSize) + ((long)((ino - 1) % ipg) * v.InodeSize), v.InodeSize);
    }

    private static byte[] Apply(XattrLists lists, string name, byte[]? value, out XattrLists next, XattrSetFlags flags = XattrSetFlags.None)
    {
        Assert.That(XattrName.TryParse(name, out byte index, out byte[] suffix), Is.EqualTo(Ext4Errno.None));
        Assert.That(lists.Apply(index, suffix, value, flags, out next, out bool changed), Is.EqualTo(Ext4Errno.None), name);
        Assert.That(changed, Is.True);
        return value ?? [];
    }

    [Test]
    public void InodeBodyEntriesAreReadByE2fsckAndTheKernel()
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        using var image = Image("4096");
        byte[] patch;
        long at;
        using (var opened = image.Open())
        {
            var v = opened.Volume;
            var f = PathWalk.Inode(v, "f");
            var lists = v.Xattrs.ReadLists(f, out uint refcount);
            Assert.That(lists.Body, Is.Empty);
            Assert.That(refcount, Is.Zero);
            Assert.That(lists.BodyCapacity, Is.EqualTo(256 - 128 - f.ExtraIsize - 4));
            Apply(lists, "user.small", "hello"u8.ToArray(), out lists);
            Apply(lists, "trusted.t", [1, 2], out lists);
            Assert.That(PosixAcl.FromXattr(UserAcl((PosixAcl.ACL_USER_OBJ, 6, uint.MaxValue), (PosixAcl.ACL_GROUP_OBJ, 4, uint.MaxValue), (PosixAcl.ACL_OTHER, 0, uint.MaxValue)), out var acl), Is.EqualTo(Ext4Errno.None));
            ushort mode = 0x81A4;
            Assert.That(PosixAcl.EquivMode(acl, ref mode), Is.True, "an ACL of the three base entries is the mode");
            Assert.That(mode, Is.EqualTo(0x81A0));

            // Replacing an entry with a longer value keeps it in the body, order kept.
            Apply(lists, "user.small", "hello again"u8.ToArray(), out lists);
            Assert.That(lists.Body.Select(r => Encoding.ASCII.GetString(r.Name)), Is.EqualTo(new[] { "small", "t" }));
            Assert.That(lists.Block, Is.Empty);
            Assert.That(lists.Apply(XattrLayout.EXT4_XATTR_INDEX_USER, "small"u8.ToArray(), [1], XattrSetFlags.Create, out _, out _), Is.EqualTo(Ext4Errno.EEXIST));
            Assert.That(lists.Apply(XattrLayout.EXT4_XATTR_INDEX_USER, "nope"u8.ToArray(), [1], XattrSetFlags.Replace, out _, out _), Is.EqualTo(Ext4Errno.ENODATA));
            Assert.That(lists.Apply(XattrLayout.EXT4_XATTR_INDEX_USER, "nope"u8.ToArray(), null, XattrSetFlags.None, out _, out _), Is.EqualTo(Ext4Errno.ENODATA));
            Assert.That(lists.Apply(XattrLayout.EXT4_XATTR_INDEX_USER, "small"u8.ToArray(), "hello again"u8.ToArray(), XattrSetFlags.None, out _, out bool same), Is.EqualTo(Ext4Errno.None));
            Assert.That(same, Is.False, "the same value changes nothing");

            (at, int size) = InodeLocation(v, f.Number);
            patch = image.ReadImage(at, size);
            int start = 128 + f.ExtraIsize;
            BitConverter.TryWriteBytes(patch.AsSpan(start), XattrLayout.EXT4_XATTR_MAGIC);
            Assert.That(XattrCodec.TryEncode(patch.AsSpan(start + 4), 0, 0, lists.Body), Is.True);
        }

        image.Patch(at, patch);
        Assert.That(Tool.FsckClean(image.ImagePath, out string fsck), Is.True, fsck);
        string got = DirsKernel.ReadOnly(image.ImagePath, image.Scratch("m"), "getfattr -d -m - -e hex \"$M/f\"");
        Assert.That(got, Does.Contain("user.small=0x68656c6c6f20616761696e"));
        Assert.That(got, Does.Contain("trusted.t=0x0102"));
        using var again = image.Open();
        Assert.That(again.Volume.GetXattr(PathWalk.Inode(again.Volume, "f"), "user.small"), Is.EqualTo("hello again"u8.ToArray()));
    }

    private static byte[] UserAcl(params (ushort Tag, ushort Perm, uint Id)[] entries)
    {
        var b = new byte[4 + (8 * entries.Length)];
        BitConverter.TryWriteBytes(b, PosixAcl.POSIX_ACL_XATTR_VERSION);
        for (int i = 0; i < entries.Length; i++)
        {
            BitConverter.TryWriteBytes(b.AsSpan(4 + (8 * i)), entries[i].Tag);
            BitConverter.TryWriteBytes(b.AsSpan(6 + (8 * i)), entries[i].Perm);
            BitConverter.TryWriteBytes(b.AsSpan(8 + (8 * i)), entries[i].Id);
        }

        return b;
    }

    [Test]
    public void BlockEntriesSpillSortedAndAclsReadBack([Values("1024", "4096")] string blockSize)
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        using var image = Image(blockSize);
        string big = image.Scratch("big");
        File.WriteAllBytes(big, Enumerable.Range(0, 700).Select(i => (byte)('a' + (i % 26))).ToArray());
        Tool.Check("debugfs", "-w", "-R", $"ea_set -f {big} /f user.zbig", image.ImagePath);
        var values = new Dictionary<string, byte[]>();
        byte[] blockBytes;
        ulong blockNr;
        byte[] inodeBytes;
        long inodeAt;
        using (var opened = image.Open())
        {
            var v = opened.Volume;
            var f = PathWalk.Inode(v, "f");
            var lists = v.Xattrs.ReadLists(f, out uint refcount);
            Assert.That(refcount, Is.EqualTo(1u));
            Assert.That(lists.Block, Has.Count.EqualTo(1));
            blockNr = f.FileAcl;

            // Too big for the body: these go to the block, sorted by (index, name length, name) there.
            int scale = blockSize == "1024" ? 1 : 2;
            values["user.b"] = Enumerable.Repeat((byte)'b', 60 * scale).ToArray();
            values["user.aa"] = Enumerable.Repeat((byte)'c', 45 * scale).ToArray();
            values["trusted.zz"] = Enumerable.Repeat((byte)'d', 50 * scale).ToArray();
            values["security.a"] = [];
            foreach (var (k, val) in values)
            {
                Apply(lists, k, val, out lists);
            }

            // An ACL with named entries (needs a mask), on-disk form in the body or the block.
            var aclX = UserAcl((PosixAcl.ACL_USER_OBJ, 7, uint.MaxValue), (PosixAcl.ACL_USER, 6, 1234), (PosixAcl.ACL_GROUP_OBJ, 5, uint.MaxValue),
                (PosixAcl.ACL_GROUP, 4, 55), (PosixAcl.ACL_MASK, 6, uint.MaxValue), (PosixAcl.ACL_OTHER, 1, uint.MaxValue));
            Assert.That(PosixAcl.FromXattr(aclX, out var acl), Is.EqualTo(Ext4Errno.None));
            ushort mode = 0x81FF;
            Assert.That(PosixAcl.EquivMode(acl, ref mode), Is.False);
            Assert.That(mode & 0x1FF, Is.EqualTo(0x1F1), "rwx rw- --x: the mask is the group class");
            Assert.That(XattrName.TryParse("system.posix_acl_access", out byte ai, out byte[] an), Is.EqualTo(Ext4Errno.None));
            Assert.That(lists.Apply(ai, an, PosixAcl.ToDisk(acl), XattrSetFlags.None, out lists, out _), Is.EqualTo(Ext4Errno.None));

            Assert.That(lists.Block.Count + lists.Body.Count, Is.EqualTo(6));
            blockBytes = new byte[v.BlockSize];
            var sorted = new List<XattrRecord>(lists.Block);
            Assert.That(XattrCodec.TryEncodeBlock(blockBytes, 1, sorted), Is.True);
            (inodeAt, int size) = InodeLocation(v, f.Number);
            inodeBytes = image.ReadImage(inodeAt, size);
            int start = 128 + f.ExtraIsize;
            BitConverter.TryWriteBytes(inodeBytes.AsSpan(start), lists.Body.Count > 0 ? XattrLayout.EXT4_XATTR_MAGIC : 0u);
            Assert.That(XattrCodec.TryEncode(inodeBytes.AsSpan(start + 4), 0, 0, lists.Body), Is.True);
        }

        image.Patch((long)(blockNr * uint.Parse(blockSize, System.Globalization.CultureInfo.InvariantCulture)), blockBytes);
        image.Patch(inodeAt, inodeBytes);
        Assert.That(Tool.FsckClean(image.ImagePath, out string fsck), Is.True, fsck);
        string got = DirsKernel.ReadOnly(image.ImagePath, image.Scratch("m"),
            "getfattr -d -m '^(user|trusted|security)\\.' -e hex \"$M/f\" && getfacl -n \"$M/f\"");
        foreach (var (k, val) in values)
        {
            Assert.That(got, Does.Contain($"{k}=0x{Convert.ToHexStringLower(val)}"), k);
        }

        Assert.That(got, Does.Contain("user.zbig=0x" + Convert.ToHexStringLower(File.ReadAllBytes(big))));
        Assert.That(got, Does.Contain("user:1234:rw-"));
        Assert.That(got, Does.Contain("group:55:r--"));
        Assert.That(got, Does.Contain("mask::rw-"));
        Assert.That(got, Does.Contain("other::--x"));
    }

    [Test]
    public void RefusedNamesAndAcls()
    {
        Assert.That(XattrName.TryParse("user.", out _, out _), Is.EqualTo(Ext4Errno.EINVAL));
        Assert.That(XattrName.TryParse("bogus.x", out _, out _), Is.EqualTo(Ext4Errno.EOPNOTSUPP));
        Assert.That(XattrName.TryParse("system.data", out _, out _), Is.EqualTo(Ext4Errno.EOPNOTSUPP));
        Assert.That(XattrName.TryParse("user." + new string('x', 251), out _, out _), Is.EqualTo(Ext4Errno.ERANGE));
        Assert.That(XattrName.TryParse("user." + new string('x', 250), out byte i, out byte[] n), Is.EqualTo(Ext4Errno.None));
        Assert.That((i, n.Length), Is.EqualTo((XattrLayout.EXT4_XATTR_INDEX_USER, 250)));
        Assert.That(XattrName.TryParse("system.posix_acl_default", out i, out n), Is.EqualTo(Ext4Errno.None));
        Assert.That((i, n.Length), Is.EqualTo((XattrLayout.EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT, 0)));

        // Order, required mask, permission bits, version, size.
        Assert.That(PosixAcl.FromXattr(UserAcl((PosixAcl.ACL_GROUP_OBJ, 4, uint.MaxValue), (PosixAcl.ACL_USER_OBJ, 6, uint.MaxValue), (PosixAcl.ACL_OTHER, 0, uint.MaxValue)), out _), Is.EqualTo(Ext4Errno.EINVAL));
        Assert.That(PosixAcl.FromXattr(UserAcl((PosixAcl.ACL_USER_OBJ, 6, 0), (PosixAcl.ACL_USER, 6, 5), (PosixAcl.ACL_GROUP_OBJ, 4, 0), (PosixAcl.ACL_OTHER, 0, 0)), out _), Is.EqualTo(Ext4Errno.EINVAL));
        Assert.That(PosixAcl.FromXattr(UserAcl((PosixAcl.ACL_USER_OBJ, 8, 0), (PosixAcl.ACL_GROUP_OBJ, 4, 0), (PosixAcl.ACL_OTHER, 0, 0)), out _), Is.EqualTo(Ext4Errno.EINVAL));
        var ok = UserAcl((PosixAcl.ACL_USER_OBJ, 6, 0), (PosixAcl.ACL_GROUP_OBJ, 4, 0), (PosixAcl.ACL_OTHER, 0, 0));
        Assert.That(PosixAcl.FromXattr(ok, out var entries), Is.EqualTo(Ext4Errno.None));
        Assert.That(PosixAcl.ToXattr(1, PosixAcl.ToDisk(entries)), Is.EqualTo(UserAcl((PosixAcl.ACL_USER_OBJ, 6, uint.MaxValue), (PosixAcl.ACL_GROUP_OBJ, 4, uint.MaxValue), (PosixAcl.ACL_OTHER, 0, uint.MaxValue))), "round trip through the disk form");
        Assert.That(PosixAcl.FromXattr(ok.AsSpan(0, ok.Length - 1), out _), Is.EqualTo(Ext4Errno.EINVAL));
        ok[0] = 1;
        Assert.That(PosixAcl.FromXattr(ok, out _), Is.EqualTo(Ext4Errno.EINVAL));
        Assert.That(PosixAcl.FromXattr(UserAcl(), out entries), Is.EqualTo(Ext4Errno.None));
        Assert.That(entries, Is.Empty);
    }

    [Test]
    public void TooBigForEitherPlaceIsNoSpace()
    {
        var lists = new XattrLists([], 92, [], 1024 - 32);
        Assert.That(lists.Apply(1, "v"u8.ToArray(), new byte[1024 - 32 - 4 - 20 + 1], XattrSetFlags.None, out _, out _), Is.EqualTo(Ext4Errno.ENOSPC));
        Assert.That(lists.Apply(1, "v"u8.ToArray(), new byte[1024 - 32 - 4 - 20], XattrSetFlags.None, out var next, out _), Is.EqualTo(Ext4Errno.None));
        Assert.That((next.Body.Count, next.Block.Count), Is.EqualTo((0, 1)));

        // Growing a body value past the body moves it to the block; shrinking it moves it back.
        Assert.That(lists.Apply(1, "s"u8.ToArray(), new byte[40], XattrSetFlags.None, out next, out _), Is.EqualTo(Ext4Errno.None));
        Assert.That((next.Body.Count, next.Block.Count), Is.EqualTo((1, 0)));
        Assert.That(next.Apply(1, "s"u8.ToArray(), new byte[200], XattrSetFlags.None, out next, out _), Is.EqualTo(Ext4Errno.None));
        Assert.That((next.Body.Count, next.Block.Count), Is.EqualTo((0, 1)));
        Assert.That(next.Apply(1, "s"u8.ToArray(), new byte[8], XattrSetFlags.None, out next, out _), Is.EqualTo(Ext4Errno.None));
        Assert.That((next.Body.Count, next.Block.Count), Is.EqualTo((1, 0)));
    }
}
