using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>
/// Builds one image per layout from <see cref="SourceTree"/> with mkfs.ext4 -d and checks that
/// everything reads back: contents byte for byte, directory listings, symlinks, device numbers,
/// inode fields against debugfs, xattrs and ACLs against the source (getfattr), and a sparse
/// file past 4 GiB.
/// </summary>
[TestFixtureSource(nameof(Layouts))]
public class ReadBackTests
{
    public static readonly object[] Layouts =
    [
        new object[] { "default", 4096, Array.Empty<string>() },
        new object[] { "b1024", 1024, new[] { "-b", "1024" } },
        new object[] { "i128", 4096, new[] { "-I", "128" } },
        new object[] { "ext2", 4096, new[] { "-t", "ext2" } },
        new object[] { "ext2-1k-i128", 1024, new[] { "-t", "ext2", "-b", "1024", "-I", "128" } },
        new object[] { "ext3", 4096, new[] { "-t", "ext3" } },
        new object[] { "nocsum", 4096, new[] { "-O", "^metadata_csum" } },
        new object[] { "uninit_bg", 4096, new[] { "-O", "^metadata_csum,uninit_bg" } },
        new object[] { "no64bit", 4096, new[] { "-O", "^64bit" } },
        new object[] { "noextent", 4096, new[] { "-O", "^extent,^64bit" } },
        new object[] { "meta_bg", 1024, new[] { "-O", "meta_bg,^resize_inode", "-g", "2048" } }, // 32 groups: two meta groups
        new object[] { "csum_seed", 4096, new[] { "-O", "metadata_csum_seed" } },
        new object[] { "inline_data", 4096, new[] { "-O", "inline_data" } },
        new object[] { "inline-1k", 1024, new[] { "-O", "inline_data,^metadata_csum" } },
    ];

    private readonly string _layout;
    private readonly int _blockSize;
    private readonly string[] _options;
    private TestImage? _image;
    private OpenedVolume? _opened;

    public ReadBackTests(string layout, int blockSize, string[] options)
    {
        _layout = layout;
        _blockSize = blockSize;
        _options = options;
    }

    private Ext4Volume V => _opened!.Volume;

    private string Src => _image!.SourcePath;

    [OneTimeSetUp]
    public void Build()
    {
        // -b always: mke2fs.conf's "small" type would pick 1 KiB blocks for a 64 MiB image.
        _image = TestImage.Build(src => SourceTree.Populate(src, _blockSize), "64M",
            [.. _options, "-b", _blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "-L", "lbl-" + _layout]);
        if (!_options.Contains("128"))
        {
            // Nanoseconds and epoch bits (mkfs -d copies whole seconds only).
            Tool.Check("debugfs", "-w", "-R", "sif /one atime_extra 0x1d6f3455", _image.ImagePath);
            Tool.Check("debugfs", "-w", "-R", "sif /one crtime_extra 0x00000006", _image.ImagePath);
            Tool.Check("debugfs", "-w", "-R", "sif /one mtime_extra 0xee6b27fc", _image.ImagePath);
        }

        _opened = _image.Open();
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        _opened?.Dispose();
        _image?.Dispose();
    }

    [Test]
    public void VolumeIdentity()
    {
        string uuid = Tool.Check("blkid", "-s", "UUID", "-o", "value", _image!.ImagePath).Trim();
        Assert.Multiple(() =>
        {
            Assert.That(V.BlockSize, Is.EqualTo((uint)_blockSize));
            Assert.That(V.Label, Is.EqualTo("lbl-" + _layout));
            Assert.That(V.Uuid.ToString(), Is.EqualTo(uuid));
            Assert.That(V.IsReadOnly, Is.True);
            Assert.That(V.Warnings, Is.Empty);
        });
    }

    [Test]
    public void EveryObjectMatchesTheSource()
    {
        int checkedFiles = 0;
        foreach (var rel in SourceTree.Walk(Src))
        {
            string path = Path.Combine(Src, rel);
            var info = new FileInfo(path);
            var inode = PathWalk.Inode(V, rel);
            if (info.LinkTarget != null)
            {
                Assert.That(inode.IsSymlink, Is.True, rel);
                Assert.That(Encoding.UTF8.GetString(V.ReadSymlink(inode)), Is.EqualTo(info.LinkTarget), rel);
            }
            else if (Directory.Exists(path))
            {
                Assert.That(inode.IsDirectory, Is.True, rel);
            }
            else if (rel == SourceTree.SparseName)
            {
                Assert.That(inode.Size, Is.EqualTo(SourceTree.SparseSize));
            }
            else if (IsRegular(path))
            {
                Assert.That(inode.IsRegular, Is.True, rel);
                var expected = File.ReadAllBytes(path);
                Assert.That(inode.Size, Is.EqualTo(expected.Length), rel);
                Assert.That(PathWalk.ReadAll(V, inode), Is.EqualTo(expected), rel);
                Assert.That(PathWalk.ReadAll(V, inode, chunk: 1000), Is.EqualTo(expected), rel + " (unaligned chunks)");
                checkedFiles++;
            }
        }

        Assert.That(checkedFiles, Is.GreaterThanOrEqualTo(12));
    }

    [Test]
    public void SymlinkTargets()
    {
        var s10 = PathWalk.Inode(V, "sym10");
        var s300 = PathWalk.Inode(V, "sym300");
        Assert.Multiple(() =>
        {
            Assert.That(V.ReadSymlink(s10), Is.EqualTo(SourceTree.Utf8(SourceTree.Symlink10Target)));
            Assert.That(s10.Blocks512, Is.EqualTo(0UL), "10-byte target is a fast symlink");
            Assert.That(V.ReadSymlink(s300), Is.EqualTo(SourceTree.Utf8(SourceTree.Symlink300Target)));
            Assert.That(s300.Blocks512, Is.GreaterThan(0UL), "300-byte target lives in a block");
            Assert.That(s300.Size, Is.EqualTo(300));
        });
    }

    [Test]
    public void DirectoryListingsMatchTheSource()
    {
        var dirs = new[] { "" }.Concat(SourceTree.Walk(Src).Where(r => Directory.Exists(Path.Combine(Src, r)) && new FileInfo(Path.Combine(Src, r)).LinkTarget == null));
        foreach (var rel in dirs)
        {
            uint ino = PathWalk.Resolve(V, rel);
            var dir = V.ReadInode(ino);
            var entries = V.ReadDirectory(dir);
            var names = entries.Select(e => Encoding.UTF8.GetString(e.Name)).ToList();
            var expected = new DirectoryInfo(Path.Combine(Src, rel)).EnumerateFileSystemInfos().Select(f => f.Name).ToList();
            expected.Add(".");
            expected.Add("..");
            if (rel.Length == 0)
            {
                expected.Add("lost+found");
            }

            Assert.That(names, Is.EquivalentTo(expected), $"listing of /{rel}");
            Assert.That(names.Take(2), Is.EqualTo(new[] { ".", ".." }), "on-disk order starts with . and ..");
            Assert.That(entries[0].Inode, Is.EqualTo(ino));
            uint parent = rel.Length == 0 ? PathWalk.RootIno : PathWalk.Resolve(V, Path.GetDirectoryName(rel) ?? "");
            Assert.That(entries[1].Inode, Is.EqualTo(parent));

            foreach (var e in entries)
            {
                Assert.That(V.Lookup(dir, e.Name), Is.EqualTo(e.Inode), $"lookup of {Encoding.UTF8.GetString(e.Name)} in /{rel}");
                var child = V.ReadInode(e.Inode);
                Assert.That(e.FileType, Is.EqualTo(FileTypeOf(child.Mode)), Encoding.UTF8.GetString(e.Name));
            }

            Assert.That(V.Lookup(dir, "no-such-name"u8), Is.EqualTo(0u));
        }
    }

    [Test]
    public void HardLinksShareAnInode()
    {
        var a = PathWalk.Resolve(V, "sub/hard1");
        var b = PathWalk.Resolve(V, "hard2");
        Assert.That(a, Is.EqualTo(b));
        Assert.That(V.ReadInode(a).LinksCount, Is.EqualTo((ushort)2));
    }

    [Test]
    public void LongNameAndUnicodeName()
    {
        Assert.That(PathWalk.Resolve(V, SourceTree.LongName), Is.Not.EqualTo(0u));
        Assert.That(PathWalk.Resolve(V, SourceTree.LongName + "x"), Is.EqualTo(0u));
        Assert.That(PathWalk.Resolve(V, "utf8-\u00e9\u65e5"), Is.Not.EqualTo(0u));
    }

    [Test]
    public void DeviceNodesAndFifo()
    {
        var oldChr = PathWalk.Inode(V, "chr-old");
        var newChr = PathWalk.Inode(V, "chr-new");
        var blk = PathWalk.Inode(V, "blk");
        var fifo = PathWalk.Inode(V, "fifo");
        Assert.Multiple(() =>
        {
            Assert.That((oldChr.Mode & InodeLayout.S_IFMT, oldChr.RdevMajor, oldChr.RdevMinor), Is.EqualTo((InodeLayout.S_IFCHR, 1u, 3u)));
            Assert.That((newChr.Mode & InodeLayout.S_IFMT, newChr.RdevMajor, newChr.RdevMinor), Is.EqualTo((InodeLayout.S_IFCHR, 300u, 70000u)));
            Assert.That((blk.Mode & InodeLayout.S_IFMT, blk.RdevMajor, blk.RdevMinor), Is.EqualTo((InodeLayout.S_IFBLK, 8u, 1u)));
            Assert.That(fifo.Mode & InodeLayout.S_IFMT, Is.EqualTo(InodeLayout.S_IFIFO));
        });
    }

    [Test]
    public void InodeFieldsMatchDebugfs()
    {
        var inodes = new SortedSet<uint> { PathWalk.RootIno };
        foreach (var rel in SourceTree.Walk(Src))
        {
            inodes.Add(PathWalk.Resolve(V, rel));
        }

        var stats = DebugfsStat.ForInodes(_image!.ImagePath, inodes, _image.Scratch("stat-requests"));
        Assert.That(stats.Keys, Is.EquivalentTo(inodes));
        foreach (var (ino, s) in stats)
        {
            var i = V.ReadInode(ino);
            string what = $"inode {ino}";
            Assert.That(i.Mode & 0xFFF, Is.EqualTo(s.Perm & 0xFFF), what + " mode");
            Assert.That(i.Flags, Is.EqualTo(s.Flags), what + " flags");
            Assert.That(i.Generation, Is.EqualTo(s.Generation), what + " generation");
            Assert.That((i.Uid, i.Gid), Is.EqualTo((s.Uid, s.Gid)), what + " owner");
            Assert.That(i.Size, Is.EqualTo(s.Size), what + " size");
            Assert.That(i.LinksCount, Is.EqualTo(s.Links), what + " links");
            Assert.That(i.Blocks512, Is.EqualTo(s.Blockcount), what + " i_blocks");
            CheckTime(what + " atime", s.Times["atime"], i.AtimeSeconds, i.AtimeNanoseconds);
            CheckTime(what + " mtime", s.Times["mtime"], i.MtimeSeconds, i.MtimeNanoseconds);
            CheckTime(what + " ctime", s.Times["ctime"], i.CtimeSeconds, i.CtimeNanoseconds);
            Assert.That(i.HasCrtime, Is.EqualTo(s.Times.ContainsKey("crtime")), what + " has crtime");
            if (i.HasCrtime)
            {
                CheckTime(what + " crtime", s.Times["crtime"], i.CrtimeSeconds, i.CrtimeNanoseconds);
            }

            if (s.Device is { } d)
            {
                Assert.That((i.RdevMajor, i.RdevMinor), Is.EqualTo(d), what + " rdev");
            }

            Assert.That(s.Type, Is.EqualTo(TypeName(i)), what + " type");
        }

        if (!_options.Contains("128"))
        {
            var one = PathWalk.Inode(V, "one");
            Assert.Multiple(() =>
            {
                Assert.That(one.AtimeNanoseconds, Is.EqualTo(0x1d6f3455u >> 2));
                Assert.That(one.AtimeSeconds, Is.GreaterThan(uint.MaxValue), "epoch bits extend past 2106");
                Assert.That(one.MtimeNanoseconds, Is.EqualTo(999_999_999u));
                Assert.That(one.CrtimeSeconds, Is.GreaterThan(1L << 33), "crtime epoch bits 2");
                Assert.That(one.CrtimeNanoseconds, Is.EqualTo(1u));
            });
        }
    }

    [Test]
    public void XattrsMatchTheSource()
    {
        foreach (var rel in new[] { "xattrs", "bigxattr", "acl-small", "acl-big", "acl-dir", "one" })
        {
            var expected = SourceXattrs(Path.Combine(Src, rel));
            var inode = PathWalk.Inode(V, rel);
            var names = V.ListXattrNames(inode);
            Assert.That(names, Is.EquivalentTo(expected.Keys), rel);
            foreach (var (name, value) in expected)
            {
                Assert.That(V.GetXattr(inode, name), Is.EqualTo(value), $"{rel} {name}");
            }

            Assert.That(V.GetXattr(inode, "user.absent"), Is.Null);
        }

        var big = PathWalk.Inode(V, "acl-big");
        Assert.That(big.FileAcl, Is.Not.EqualTo(0UL), "the 40-entry ACL spills into an xattr block");
        var acl = V.GetXattr(big, "system.posix_acl_access")!;
        Assert.That(BitConverter.ToUInt32(acl, 0), Is.EqualTo(2u), "userspace ACL version");
        Assert.That((acl.Length - 4) / 8, Is.EqualTo(44), "USER_OBJ + 40 USER + GROUP_OBJ + MASK + OTHER");
    }

    [Test]
    public void SparseFileBeyond4GiB()
    {
        var f = PathWalk.Inode(V, SourceTree.SparseName);
        var buf = new byte[64];
        Assert.That(V.Read(f, SourceTree.SparseMidOffset - 10, buf), Is.EqualTo(64));
        Assert.That(buf[..10], Is.All.EqualTo((byte)0));
        Assert.That(buf[10..16], Is.EqualTo(SourceTree.SparseMid));
        Assert.That(buf[16..], Is.All.EqualTo((byte)0));

        Assert.That(V.Read(f, SourceTree.SparseSize - 10, buf), Is.EqualTo(10), "clamped at EOF");
        Assert.That(buf[7..10], Is.EqualTo(SourceTree.SparseEnd));
        Assert.That(V.Read(f, SourceTree.SparseSize, buf), Is.EqualTo(0));
        Assert.That(V.Read(f, SourceTree.SparseSize + 5000, buf), Is.EqualTo(0));

        // A large read across a hole and the 4 GiB boundary.
        var big = new byte[3 << 20];
        Array.Fill(big, (byte)0xAA);
        Assert.That(V.Read(f, (4L << 30) - (1 << 20), big), Is.EqualTo(big.Length));
        Assert.That(big.Count(b => b != 0), Is.EqualTo(SourceTree.SparseMid.Count(b => b != 0)));
        Assert.That(f.Blocks512, Is.LessThan(100UL), "holes are not allocated");
    }

    [Test]
    public void FileWithManyExtents()
    {
        var f = PathWalk.Inode(V, SourceTree.ManyExtentsName);
        var data = PathWalk.ReadAll(V, f);
        Assert.That(data.Length, Is.EqualTo(((SourceTree.ManyExtentsRuns - 1) * 2 * _blockSize) + 1));
        for (int i = 0; i < SourceTree.ManyExtentsRuns; i++)
        {
            Assert.That(data[i * 2 * _blockSize], Is.EqualTo((byte)(i | 1)), $"run {i}");
        }

        Assert.That(data.Count(b => b != 0), Is.EqualTo(SourceTree.ManyExtentsRuns));
        if (f.HasFlag(InodeLayout.EXT4_EXTENTS_FL))
        {
            int depth = BitConverter.ToUInt16(f.IBlock[ExtentLayout.eh_depth..]);
            Assert.That(depth, Is.GreaterThanOrEqualTo(_blockSize == 4096 ? 2 : 1), "a deep extent tree");
        }
    }

    [Test]
    public void ConcurrentReadsWithATinyCache()
    {
        using var small = TestImage.OpenPath(_image!.ImagePath, cacheBytes: 16 * 1024);
        var files = SourceTree.Walk(Src).Where(r => IsRegular(Path.Combine(Src, r)) && r != SourceTree.SparseName).ToArray();
        var expected = files.ToDictionary(r => r, r => File.ReadAllBytes(Path.Combine(Src, r)));
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            for (int round = 0; round < 3; round++)
            {
                foreach (var rel in files.Skip(t % files.Length).Concat(files.Take(t % files.Length)))
                {
                    var data = PathWalk.ReadAll(small.Volume, PathWalk.Inode(small.Volume, rel), chunk: 777 + t);
                    if (!data.AsSpan().SequenceEqual(expected[rel]))
                    {
                        failures.Add($"thread {t}: {rel}");
                    }
                }
            }
        });
        Assert.That(failures, Is.Empty);
        Assert.That(small.Volume.Cache.Count, Is.LessThanOrEqualTo(small.Volume.Cache.Capacity));
    }

    [Test]
    public void StatFsMatchesTheKernel()
    {
        if (Tool.Check("id", "-u").Trim() != "0")
        {
            Assert.Ignore("needs root to loop-mount the image");
        }

        string mnt = _image!.Scratch("kmnt");
        Directory.CreateDirectory(mnt);
        // A private mount namespace: the mount dies with the shell even if the test fails.
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            $"mount -o ro,loop '{_image.ImagePath}' '{mnt}' && stat -f -c '%b %f %a %c %d %l %S' '{mnt}'; rc=$?; umount '{mnt}' 2>/dev/null; exit $rc"], 120);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr);
        var k = r.Stdout.Trim().Split(' ').Select(ulong.Parse).ToArray();
        var s = V.StatFs();
        Assert.Multiple(() =>
        {
            Assert.That(s.Blocks, Is.EqualTo(k[0]), "f_blocks");
            Assert.That(s.FreeBlocks, Is.EqualTo(k[1]), "f_bfree");
            Assert.That(s.AvailableBlocks, Is.EqualTo(k[2]), "f_bavail");
            Assert.That(s.Files, Is.EqualTo(k[3]), "f_files");
            Assert.That(s.FreeFiles, Is.EqualTo(k[4]), "f_ffree");
            Assert.That((ulong)s.NameMax, Is.EqualTo(k[5]), "namelen");
            Assert.That((ulong)s.BlockSize, Is.EqualTo(k[6]), "bsize");
        });
    }

    private static void CheckTime(string what, (uint Raw, uint? Extra) d, long seconds, uint ns)
    {
        long expectedSeconds = (int)d.Raw;
        uint expectedNs = 0;
        if (d.Extra is uint extra)
        {
            expectedSeconds += (long)(extra & 3) << 32;
            expectedNs = extra >> 2;
        }

        Assert.That((seconds, ns), Is.EqualTo((expectedSeconds, expectedNs)), what);
    }

    private static bool IsRegular(string path) => SourceTree.IsRegularFile(path);

    private static byte FileTypeOf(ushort mode) => (mode & InodeLayout.S_IFMT) switch
    {
        InodeLayout.S_IFREG => 1,
        InodeLayout.S_IFDIR => 2,
        InodeLayout.S_IFCHR => 3,
        InodeLayout.S_IFBLK => 4,
        InodeLayout.S_IFIFO => 5,
        InodeLayout.S_IFSOCK => 6,
        InodeLayout.S_IFLNK => 7,
        _ => 0,
    };

    private static string TypeName(Ext4Inode i) => (i.Mode & InodeLayout.S_IFMT) switch
    {
        InodeLayout.S_IFREG => "regular",
        InodeLayout.S_IFDIR => "directory",
        InodeLayout.S_IFCHR => "character special",
        InodeLayout.S_IFBLK => "block special",
        InodeLayout.S_IFIFO => "FIFO",
        InodeLayout.S_IFSOCK => "socket",
        InodeLayout.S_IFLNK => "symlink",
        _ => "bad type",
    };

    /// <summary>All xattrs of a source file as the kernel returns them (getfattr -d -m - -e hex).</summary>
    private static Dictionary<string, byte[]> SourceXattrs(string path)
    {
        var result = new Dictionary<string, byte[]>();
        string text = Tool.Check("getfattr", "-h", "-d", "-m", "-", "-e", "hex", "--absolute-names", path);
        foreach (var line in text.Split('\n'))
        {
            int eq = line.IndexOf('=');
            if (line.StartsWith('#') || eq < 0)
            {
                continue;
            }

            string value = line[(eq + 1)..].Trim();
            result[line[..eq]] = value.StartsWith("0x", StringComparison.Ordinal) ? Convert.FromHexString(value[2..]) : [];
        }

        return result;
    }
}
