using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Safemount.Ext4.Tests.Support;

namespace Safemount.Ext4.Tests;

/// <summary>
/// The kernel writes a tree (including what mkfs -d never makes: deleted and merged directory
/// entries, an htree grown by the kernel, renames, truncations, preallocation, nanosecond
/// times), then a read-only kernel mount describes it (stat, sha256sum, readlink, getfattr,
/// find); the engine must describe the same image identically.
/// </summary>
public class KernelDifferentialTests
{
    private const string Workload = """
        set -e
        cd "$1"
        mkdir -p a/b/c big sparse
        for i in $(seq 1 300); do printf "content-$i-%0${i}d" 0 > a/file-$i; done
        for i in $(seq 1 300); do if [ $((i % 3)) -eq 0 ]; then rm a/file-$i; fi; done
        for i in $(seq 1 2500); do : > "big/a-rather-long-file-name-to-fill-blocks-quickly-$i"; done
        for i in $(seq 1 2500); do if [ $((i % 2)) -eq 0 ]; then rm "big/a-rather-long-file-name-to-fill-blocks-quickly-$i"; fi; done
        mv a/file-1 a/b/c/moved
        ln a/file-2 a/b/hard
        ln -s ../file-4 a/b/rel-link
        ln -s "$(printf 'x%.0s' $(seq 1 500))" a/long-link
        mknod a/chr c 10 229
        mkfifo a/fifo
        head -c 3000000 /dev/urandom > a/random
        truncate -s 1000000 a/random
        truncate -s 6G sparse/huge
        printf tail >> sparse/huge
        fallocate -l 200000 sparse/prealloc
        printf mid | dd of=sparse/prealloc bs=1 seek=100000 conv=notrunc status=none
        setfattr -n user.k -v value a/file-5
        setfattr -n trusted.k -v 0x0102 a/file-5
        setfacl -m u:1234:rw- a/file-7
        setfacl -d -m g:55:r-x a/b
        touch -d '2031-05-06 07:08:09.123456789' a/file-8
        chown 123456:654321 a/file-10
        chmod 4751 a/file-11
        """;

    [Test]
    public void EngineAgreesWithTheKernel()
    {
        if (Tool.Check("id", "-u").Trim() != "0")
        {
            Assert.Ignore("needs root to mount");
        }

        using var image = TestImage.Build(_ => { }, "128M", "-b", "4096");
        string mnt = image.Scratch("kmnt");
        Directory.CreateDirectory(mnt);
        string workload = image.Scratch("workload.sh");
        File.WriteAllText(workload, Workload);
        string report = image.Scratch("report");
        Directory.CreateDirectory(report);
        string describe = $"""
            cd '{mnt}' && find . -mindepth 1 -printf '%P\n' > '{report}/find' &&
            find . -mindepth 1 -print0 | xargs -0 stat --printf '%n\t%f\t%u\t%g\t%s\t%h\t%.9X\t%.9Y\t%.9Z\t%.9W\t%t\t%T\n' > '{report}/stat' &&
            find . -type f -print0 | xargs -0 sha256sum > '{report}/sha' &&
            find . -type l -printf '%P\t%l\n' > '{report}/links' &&
            getfattr -R -P -d -m - -e hex . > '{report}/xattrs' 2>/dev/null; stat -f -c '%b %f %a %c %d' . > '{report}/statfs'
            """;
        var r = Tool.Run("unshare", ["-m", "--propagation", "private", "sh", "-c",
            $"mount -o loop '{image.ImagePath}' '{mnt}' && sh '{workload}' '{mnt}'; rc=$?; umount '{mnt}' || exit 9; [ $rc -eq 0 ] || exit $rc; " +
            $"mount -o ro,loop '{image.ImagePath}' '{mnt}' && ( {describe} ); rc=$?; umount '{mnt}'; exit $rc"], 600);
        Assert.That(r.ExitCode, Is.EqualTo(0), r.Stderr + r.Stdout);
        Assert.That(Tool.FsckClean(image.ImagePath, out string fsck), Is.True, fsck);
        Assert.That(Tool.Debugfs(image.ImagePath, "htree /big"), Does.Contain("Root node dump"), "the kernel indexed big/");

        using var opened = image.Open();
        var v = opened.Volume;
        CompareStat(v, File.ReadAllLines(Path.Combine(report, "stat")));
        CompareContents(v, File.ReadAllLines(Path.Combine(report, "sha")));
        CompareLinks(v, File.ReadAllLines(Path.Combine(report, "links")));
        CompareListings(v, File.ReadAllLines(Path.Combine(report, "find")));
        CompareXattrs(v, File.ReadAllText(Path.Combine(report, "xattrs")));
        var k = File.ReadAllText(Path.Combine(report, "statfs")).Trim().Split(' ').Select(ulong.Parse).ToArray();
        var s = v.StatFs();
        Assert.That(new[] { s.Blocks, s.FreeBlocks, s.AvailableBlocks, s.Files, s.FreeFiles }, Is.EqualTo(k), "statfs");
    }

    private static string Rel(string findPath) => findPath.StartsWith("./", StringComparison.Ordinal) ? findPath[2..] : findPath;

    private static void CompareStat(Ext4Volume v, string[] lines)
    {
        Assert.That(lines, Has.Length.GreaterThan(1400), "200 + 1250 files and the rest");
        foreach (var line in lines)
        {
            var f = line.Split('\t');
            var i = PathWalk.Inode(v, Rel(f[0]));
            string what = f[0];
            Assert.That(i.Mode, Is.EqualTo(ushort.Parse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture)), what + " mode");
            Assert.That((i.Uid, i.Gid), Is.EqualTo((uint.Parse(f[2], CultureInfo.InvariantCulture), uint.Parse(f[3], CultureInfo.InvariantCulture))), what + " owner");
            Assert.That(i.Size, Is.EqualTo(long.Parse(f[4], CultureInfo.InvariantCulture)), what + " size");
            Assert.That(i.LinksCount, Is.EqualTo(ushort.Parse(f[5], CultureInfo.InvariantCulture)), what + " nlink");
            Assert.That(Time(i.AtimeSeconds, i.AtimeNanoseconds), Is.EqualTo(f[6]), what + " atime");
            Assert.That(Time(i.MtimeSeconds, i.MtimeNanoseconds), Is.EqualTo(f[7]), what + " mtime");
            Assert.That(Time(i.CtimeSeconds, i.CtimeNanoseconds), Is.EqualTo(f[8]), what + " ctime");
            Assert.That(Time(i.CrtimeSeconds, i.CrtimeNanoseconds), Is.EqualTo(f[9]), what + " btime");
            if (i.RdevMajor != 0 || i.RdevMinor != 0)
            {
                Assert.That((i.RdevMajor.ToString("x", CultureInfo.InvariantCulture), i.RdevMinor.ToString("x", CultureInfo.InvariantCulture)), Is.EqualTo((f[10], f[11])), what + " rdev");
            }
        }
    }

    private static string Time(long s, uint ns) => string.Create(CultureInfo.InvariantCulture, $"{s}.{ns:D9}");

    private static void CompareContents(Ext4Volume v, string[] lines)
    {
        foreach (var line in lines)
        {
            string hash = line[..64];
            string path = Rel(line[66..]);
            var inode = PathWalk.Inode(v, path);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[4 << 20];
            for (long pos = 0; pos < inode.Size;)
            {
                int n = v.Read(inode, pos, buffer);
                sha.AppendData(buffer, 0, n);
                pos += n;
            }

            Assert.That(Convert.ToHexStringLower(sha.GetHashAndReset()), Is.EqualTo(hash), path);
        }
    }

    private static void CompareLinks(Ext4Volume v, string[] lines)
    {
        Assert.That(lines, Has.Length.EqualTo(2));
        foreach (var line in lines)
        {
            var f = line.Split('\t', 2);
            Assert.That(Encoding.UTF8.GetString(v.ReadSymlink(PathWalk.Inode(v, f[0]))), Is.EqualTo(f[1]), f[0]);
        }
    }

    private static void CompareListings(Ext4Volume v, string[] paths)
    {
        var byDir = paths.GroupBy(p => p.Contains('/') ? p[..p.LastIndexOf('/')] : "").ToDictionary(g => g.Key, g => g.Select(p => p[(p.LastIndexOf('/') + 1)..]).ToHashSet());
        foreach (var (dir, names) in byDir)
        {
            var listing = v.ReadDirectory(PathWalk.Inode(v, dir)).Select(e => Encoding.UTF8.GetString(e.Name)).Where(n => n is not "." and not "..").ToList();
            Assert.That(listing, Is.EquivalentTo(names), "/" + dir);
        }
    }

    private static void CompareXattrs(Ext4Volume v, string dump)
    {
        int files = 0;
        foreach (var block in dump.Split("# file: ", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var inode = PathWalk.Inode(v, Rel(lines[0].Trim()));
            var expected = lines.Skip(1).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => Convert.FromHexString(p[1].Trim()[2..]));
            Assert.That(v.ListXattrNames(inode), Is.EquivalentTo(expected.Keys), lines[0]);
            foreach (var (name, value) in expected)
            {
                Assert.That(v.GetXattr(inode, name), Is.EqualTo(value), $"{lines[0]} {name}");
            }

            files++;
        }

        Assert.That(files, Is.EqualTo(3), "file-5, file-7 and a/b carry xattrs");
    }
}
