using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// setxattr/removexattr through the engine on real images: values in the inode, spilled to a
/// block, a block shared by two inodes (made by the kernel) copied on write, ACLs; e2fsck -fn
/// clean (it checks hashes, refcounts and i_blocks) and a kernel mount reads every value back.
/// </summary>
public class XattrVolumeTests
{
    private static TestImage Build(params string[] mkfs) => TestImage.Build(src =>
    {
        File.WriteAllText(Path.Combine(src, "f"), "data");
        File.WriteAllText(Path.Combine(src, "g"), "data");
        Directory.CreateDirectory(Path.Combine(src, "dir"));
    }, "32M", mkfs);

    private static uint Ino(Ext4Volume v, string path) => PathWalk.Inode(v, path).Number;

    private static byte[] Val(char c, int n) => Enumerable.Repeat((byte)c, n).ToArray();

    private static string Kernel(TestImage image, string script) => DirsKernel.ReadOnly(image.ImagePath, image.Scratch("kmnt"), script);

    [TestCase("-b", "4096", "-I", "256", "-O", "metadata_csum")]
    [TestCase("-b", "1024", "-I", "128", "-O", "^metadata_csum")]
    [TestCase("-t", "ext2", "-b", "1024", "-I", "256")]
    public void InodeThenBlockThenEmpty(params string[] mkfs)
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        using var image = Build(mkfs);
        ulong blocksBefore;
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            uint f = Ino(v, "f");
            blocksBefore = v.ReadInode(f).Blocks512;
            Assert.That(v.SetXattr(f, "user.small", "v1"u8, XattrSetFlags.Create), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetXattr(f, "user.small", "v2"u8, XattrSetFlags.Create), Is.EqualTo(Ext4Errno.EEXIST));
            Assert.That(v.SetXattr(f, "user.none", "v"u8, XattrSetFlags.Replace), Is.EqualTo(Ext4Errno.ENODATA));
            Assert.That(v.RemoveXattr(f, "user.none"), Is.EqualTo(Ext4Errno.ENODATA));
            Assert.That(v.SetXattr(f, "bogus.x", "v"u8, XattrSetFlags.None), Is.EqualTo(Ext4Errno.EOPNOTSUPP));
            Assert.That(v.SetXattr(f, "user.big", new byte[70000], XattrSetFlags.None), Is.EqualTo(Ext4Errno.E2BIG));
            Assert.That(v.SetXattr(f, "user.toolarge", new byte[v.BlockSize], XattrSetFlags.None), Is.EqualTo(Ext4Errno.ENOSPC));
            bool hasBody = v.Xattrs.BodyCapacity(v.ReadInode(f)) > 0;
            Assert.That(v.ReadInode(f).FileAcl != 0, Is.EqualTo(!hasBody), "a small value stays in the inode when there is room");
            for (int i = 0; i < 12; i++)
            {
                Assert.That(v.SetXattr(f, $"user.k{i}", Val((char)('a' + i), 40), XattrSetFlags.None), Is.EqualTo(Ext4Errno.None), $"k{i}");
            }

            Assert.That(v.SetXattr(f, "trusted.t", [1, 2, 3], XattrSetFlags.None), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetXattr(f, "security.s", [], XattrSetFlags.None), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.SetXattr(f, "user.small", "replaced"u8, XattrSetFlags.Replace), Is.EqualTo(Ext4Errno.None));
            var inode = v.ReadInode(f);
            Assert.That(inode.FileAcl, Is.Not.Zero, "spilled into a block");
            Assert.That(inode.Blocks512, Is.EqualTo(blocksBefore + (v.BlockSize / 512)));
            Assert.That(v.GetXattr(inode, "user.k11"), Is.EqualTo(Val('l', 40)));
            Assert.That(v.GetXattr(inode, "user.small"), Is.EqualTo("replaced"u8.ToArray()));
        }

        AssertClean(image);
        string got = Kernel(image, "getfattr -d -m - -e hex \"$M/f\"");
        for (int i = 0; i < 12; i++)
        {
            Assert.That(got, Does.Contain($"user.k{i}=0x{Convert.ToHexStringLower(Val((char)('a' + i), 40))}"));
        }

        Assert.That(got, Does.Contain("trusted.t=0x010203").And.Contain("security.s=0x").And.Contain("user.small=0x7265706c61636564"));

        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            uint f = Ino(v, "f");
            foreach (var n in v.ListXattrNames(v.ReadInode(f)).ToList())
            {
                Assert.That(v.RemoveXattr(f, n), Is.EqualTo(Ext4Errno.None), n);
            }

            var inode = v.ReadInode(f);
            Assert.That(v.ListXattrNames(inode), Is.Empty);
            Assert.That(inode.FileAcl, Is.Zero, "the emptied block is freed");
            Assert.That(inode.Blocks512, Is.EqualTo(blocksBefore));
        }

        AssertClean(image);
        Assert.That(Kernel(image, "getfattr -d -m - \"$M/f\""), Is.Empty);
    }

    [Test]
    public void SharedBlockIsCopiedOnWrite([Values] bool csum)
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        // 128-byte inodes: every xattr lives in a block, and the kernel shares identical blocks (mbcache).
        using var image = Build("-b", "1024", "-I", "128", "-O", csum ? "metadata_csum" : "^metadata_csum");
        string mnt = image.Scratch("rw");
        Directory.CreateDirectory(mnt);
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            $"mount -o loop '{image.ImagePath}' '{mnt}' && setfattr -n user.shared -v same-value '{mnt}/f' && setfattr -n user.shared -v same-value '{mnt}/g'; rc=$?; umount '{mnt}'; exit $rc"]);
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        ulong block;
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            var f = PathWalk.Inode(v, "f");
            var g = PathWalk.Inode(v, "g");
            Assert.That(f.FileAcl, Is.EqualTo(g.FileAcl), "the kernel shares the block");
            block = f.FileAcl;
            v.Xattrs.ReadLists(f, out uint refcount);
            Assert.That(refcount, Is.EqualTo(2u));
            Assert.That(v.SetXattr(f.Number, "user.mine", "only f"u8, XattrSetFlags.None), Is.EqualTo(Ext4Errno.None));
            var f2 = v.ReadInode(f.Number);
            Assert.That(f2.FileAcl, Is.Not.EqualTo(block), "f got its own copy");
            Assert.That(f2.Blocks512, Is.EqualTo(f.Blocks512));
            v.Xattrs.ReadLists(v.ReadInode(g.Number), out refcount);
            Assert.That(refcount, Is.EqualTo(1u), "the shared block lost one reference");
            Assert.That(v.GetXattr(v.ReadInode(g.Number), "user.mine"), Is.Null);
        }

        AssertClean(image);
        string got = Kernel(image, "getfattr -d -m - \"$M/f\" \"$M/g\"");
        Assert.That(got, Does.Contain("user.mine=\"only f\""));
        Assert.That(got.Split("user.shared=\"same-value\"").Length - 1, Is.EqualTo(2));

        // Remove the only attribute of g: its (now unshared) block is freed.
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            uint g = Ino(v, "g");
            Assert.That(v.RemoveXattr(g, "user.shared"), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(g).FileAcl, Is.Zero);
        }

        AssertClean(image);
        Assert.That(Tool.Debugfs(image.ImagePath, $"testb {block}"), Does.Contain("not in use"));
    }

    [Test]
    public void ManyOwnersOfOneBlockCopyAtOnce()
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        const int files = 24;
        using var image = TestImage.Build(src =>
        {
            for (int i = 0; i < files; i++)
            {
                File.WriteAllText(Path.Combine(src, $"s{i}"), "s");
            }
        }, "32M", "-b", "1024", "-I", "128", "-O", "metadata_csum");
        string mnt = image.Scratch("rw");
        Directory.CreateDirectory(mnt);
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            $"mount -o loop '{image.ImagePath}' '{mnt}' && for f in '{mnt}'/s*; do setfattr -n user.shared -v same \"$f\" || exit 1; done; rc=$?; umount '{mnt}'; exit $rc"]);
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            var inos = Enumerable.Range(0, files).Select(i => Ino(v, $"s{i}")).ToArray();
            ulong shared = v.ReadInode(inos[0]).FileAcl;
            v.Xattrs.ReadLists(v.ReadInode(inos[0]), out uint refcount);
            Assert.That(refcount, Is.EqualTo((uint)files), "the kernel shared one block among all");
            var errors = new System.Collections.Concurrent.ConcurrentBag<Ext4Errno>();
            Parallel.For(0, files, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
                errors.Add(v.SetXattr(inos[i], "user.own", System.Text.Encoding.ASCII.GetBytes($"value {i}"), XattrSetFlags.None)));
            Assert.That(errors, Is.All.EqualTo(Ext4Errno.None));
            int stillShared = inos.Count(i => v.ReadInode(i).FileAcl == shared);
            Assert.That(stillShared, Is.LessThanOrEqualTo(1), "every owner but possibly the last copied");
        }

        AssertClean(image);
        string got = Kernel(image, "for f in \"$M\"/s*; do getfattr -n user.own --only-values \"$f\"; echo; getfattr -n user.shared --only-values \"$f\"; echo; done");
        var lines = got.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines.Count(l => l == "same"), Is.EqualTo(files));
        Assert.That(lines.Where(l => l.StartsWith("value ", StringComparison.Ordinal)).Order(), Is.EquivalentTo(Enumerable.Range(0, files).Select(i => $"value {i}")));
    }

    private static byte[] Acl(params (ushort Tag, ushort Perm, uint Id)[] entries)
    {
        var b = new byte[4 + (8 * entries.Length)];
        BitConverter.TryWriteBytes(b, 2u);
        for (int i = 0; i < entries.Length; i++)
        {
            BitConverter.TryWriteBytes(b.AsSpan(4 + (8 * i)), entries[i].Tag);
            BitConverter.TryWriteBytes(b.AsSpan(6 + (8 * i)), entries[i].Perm);
            BitConverter.TryWriteBytes(b.AsSpan(8 + (8 * i)), entries[i].Id);
        }

        return b;
    }

    [Test]
    public void AclsAreStoredInExt4FormAndSetTheMode()
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        using var image = Build("-b", "4096", "-I", "256");
        const uint U = uint.MaxValue;
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            uint f = Ino(v, "f"), g = Ino(v, "g"), dir = Ino(v, "dir");
            var acl = Acl((PosixAcl.ACL_USER_OBJ, 7, U), (PosixAcl.ACL_USER, 6, 1234), (PosixAcl.ACL_GROUP_OBJ, 5, U), (PosixAcl.ACL_MASK, 7, U), (PosixAcl.ACL_OTHER, 1, U));
            Assert.That(v.SetXattr(f, "system.posix_acl_access", acl, XattrSetFlags.None), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(f).Mode & 0x1FF, Is.EqualTo(0x1F9), "rwx rwx --x: the mask is the group class");
            Assert.That(v.GetXattr(v.ReadInode(f), "system.posix_acl_access"), Is.EqualTo(acl), "read back in the userspace form");

            // An ACL the mode expresses is not stored; it sets the mode.
            Assert.That(v.SetXattr(g, "system.posix_acl_access", Acl((PosixAcl.ACL_USER_OBJ, 6, U), (PosixAcl.ACL_GROUP_OBJ, 0, U), (PosixAcl.ACL_OTHER, 0, U)), XattrSetFlags.None), Is.EqualTo(Ext4Errno.None));
            Assert.That(v.ReadInode(g).Mode & 0x1FF, Is.EqualTo(0x180));
            Assert.That(v.ListXattrNames(v.ReadInode(g)), Is.Empty);
            Assert.That(v.SetXattr(g, "system.posix_acl_default", Acl((PosixAcl.ACL_USER_OBJ, 6, U), (PosixAcl.ACL_GROUP_OBJ, 0, U), (PosixAcl.ACL_OTHER, 0, U)), XattrSetFlags.None), Is.EqualTo(Ext4Errno.EACCES));
            Assert.That(v.SetXattr(g, "system.posix_acl_access", Acl((PosixAcl.ACL_USER_OBJ, 6, U), (PosixAcl.ACL_USER, 6, 5), (PosixAcl.ACL_GROUP_OBJ, 0, U), (PosixAcl.ACL_OTHER, 0, U)), XattrSetFlags.None), Is.EqualTo(Ext4Errno.EINVAL), "named entry without a mask");
            Assert.That(v.SetXattr(dir, "system.posix_acl_default", Acl((PosixAcl.ACL_USER_OBJ, 7, U), (PosixAcl.ACL_GROUP_OBJ, 5, U), (PosixAcl.ACL_GROUP, 5, 55), (PosixAcl.ACL_MASK, 5, U), (PosixAcl.ACL_OTHER, 0, U)), XattrSetFlags.None), Is.EqualTo(Ext4Errno.None));
        }

        AssertClean(image);
        string got = Kernel(image, "getfacl -n \"$M/f\" \"$M/g\" \"$M/dir\"; stat -c '%n %a' \"$M/f\" \"$M/g\"");
        Assert.That(got, Does.Contain("user:1234:rw-").And.Contain("mask::rwx").And.Contain("other::--x"));
        Assert.That(got, Does.Contain("default:group:55:r-x").And.Contain("default:mask::r-x"));
        Assert.That(got, Does.Contain("/f 771").And.Contain("/g 600"));
    }

    private static void AssertClean(TestImage image)
    {
        Assert.That(Tool.FsckClean(image.ImagePath, out string output), Is.True, output);
    }
}
