using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using Safemount.Ext4;
using Safemount.Ext4Service.Bridge;
using Safemount.Fuse;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests.Bridge;

/// <summary>
/// Hostile images through the FUSE bridge: a few hundred seeded byte mutations of the used
/// area of two real images (metadata_csum, and ^metadata_csum so damage reaches the parsers),
/// each walked with the handlers the session calls (LOOKUP, GETATTR, STATX, OPENDIR, READDIR
/// and READDIRPLUS, OPEN, READ, READLINK, LISTXATTR, GETXATTR, STATFS, ACCESS). A handler
/// either returns an errno or throws; the session turns a throw into an errno through
/// TranslateException, and only the engine's typed errors (and ErrnoException) may be thrown.
/// Every answer must be one of <see cref="Allowed"/>. The deeper harness is
/// tests/Ext4.Tests/Mutation; this pass checks the bridge's own handling.
/// </summary>
[TestFixture]
public sealed partial class BridgeMutationTests
{
    private const int ImagesPerLayout = 150;

    /// <summary>
    /// What the bridge legitimately answers on a damaged read-only volume: success; ENOENT,
    /// ENOTDIR, EISDIR, ENAMETOOLONG, EINVAL (READLINK of a non-symlink), ENODATA/ERANGE/
    /// EOPNOTSUPP (xattrs), ESTALE (node id 0); and the integrity errors EUCLEAN (corruption),
    /// EBADMSG (checksum) and EIO (device).
    /// </summary>
    private static readonly HashSet<Errno> Allowed =
    [
        Errno.None, Errno.ENOENT, Errno.ENOTDIR, Errno.EISDIR, Errno.ENAMETOOLONG, Errno.EINVAL, Errno.ENODATA,
        Errno.ERANGE, Errno.EOPNOTSUPP, Errno.ESTALE, Errno.EUCLEAN, Errno.EBADMSG, Errno.EIO,
    ];

    private static FuseRequestContext Root => new(1, 1, 0, 0, 1);

    [TestCase("csum", new[] { "-b", "4096", "-O", "^has_journal" })]
    [TestCase("nocsum", new[] { "-b", "1024", "-O", "^has_journal,^metadata_csum" })]
    public void EveryAnswerIsAnErrnoTheBridgeMayGive(string name, string[] mkfs)
    {
        string work = Directory.CreateTempSubdirectory("safemount-bridge-mut-").FullName;
        try
        {
            byte[] clean = BuildImage(work, mkfs, out List<(long Start, int Length)> targets);
            var counts = new Dictionary<Errno, int>();
            var failures = new List<string>();
            int refused = 0;
            for (int seed = 0; seed < ImagesPerLayout; seed++)
            {
                var rng = new Random(seed);
                var image = (byte[])clean.Clone();
                for (int i = 0, n = 1 + rng.Next(8); i < n; i++)
                {
                    var (start, length) = targets[rng.Next(targets.Count)];
                    long at = start + rng.Next(length);
                    image[at] = rng.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)(image[at] ^ (1 << rng.Next(8))) };
                }

                refused += Walk(image, counts, failures, $"{name} seed {seed}") ? 0 : 1;
            }

            TestContext.Out.WriteLine($"{name}: {ImagesPerLayout} images ({refused} refused at open); answers: " +
                string.Join(", ", counts.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")));
            Assert.That(failures, Is.Empty, string.Join("\n", failures.Take(5)));
            Assert.That(counts.Keys.Count(e => e is Errno.EUCLEAN or Errno.EBADMSG), Is.GreaterThan(0), "the damage reaches the bridge");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static byte[] BuildImage(string work, string[] mkfs, out List<(long Start, int Length)> targets)
    {
        string tree = Path.Combine(work, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "dir/sub"));
        for (int i = 0; i < 120; i++)
        {
            File.WriteAllText(Path.Combine(tree, "dir", $"file-{i:D3}-{new string('p', i % 30)}"), $"content {i}");
        }

        File.WriteAllBytes(Path.Combine(tree, "blob"), new byte[9000]);
        File.WriteAllText(Path.Combine(tree, "dir/sub/x"), "x");
        File.CreateSymbolicLink(Path.Combine(tree, "link"), "dir/sub/x");
        File.CreateSymbolicLink(Path.Combine(tree, "longlink"), new string('l', 150));
        CommandResult r = Command.Run("setfattr", ["-n", "user.big", "-v", new string('v', 400), Path.Combine(tree, "blob")], TimeSpan.FromSeconds(10));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        string image = Path.Combine(work, "img");
        r = Command.Run("mkfs.ext4", ["-q", "-F", .. mkfs, "-d", tree, image, "4M"], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        r = Command.Run("timeout", ["120", "e2fsck", "-fn", image], TimeSpan.FromMinutes(3));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());

        // Targets, as debugfs locates them: the superblock, the descriptor block, every used inode,
        // the directories' blocks, the slow symlink's block and the xattr block.
        r = Command.Run("dumpe2fs", ["-h", image], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        int bs = int.Parse(Field().Match(r.StdOut.Replace("Block size:", "F:")).Groups[1].Value, CultureInfo.InvariantCulture);
        int inodeSize = int.Parse(Field().Match(r.StdOut.Replace("Inode size:", "F:")).Groups[1].Value, CultureInfo.InvariantCulture);
        string commands = Path.Combine(work, "debugfs.cmd");
        var lines = new List<string> { "blocks /", "blocks /dir", "blocks /dir/sub", "blocks /longlink", "stat /blob" };
        lines.AddRange(Enumerable.Range(0, 140).Select(i => $"imap <{(i == 0 ? 2 : 10 + i)}>"));
        File.WriteAllLines(commands, lines);
        r = Command.Run("debugfs", ["-f", commands, image], TimeSpan.FromMinutes(1));
        Assert.That(r.ExitCode, Is.Zero, r.ToString());
        targets = [(1024, 1024), ((bs == 1024 ? 2 : 1) * (long)bs, bs)];
        foreach (Match m in Imap().Matches(r.StdOut))
        {
            targets.Add((long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) * bs + long.Parse(m.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture), inodeSize));
        }

        foreach (Match m in BlockList().Matches(r.StdOut))
        {
            foreach (var b in m.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                targets.Add((long.Parse(b, CultureInfo.InvariantCulture) * bs, bs));
            }
        }

        var acl = FileAcl().Match(r.StdOut);
        Assert.That(acl.Success && acl.Groups[1].Value != "0", Is.True, "the xattr block exists");
        targets.Add((long.Parse(acl.Groups[1].Value, CultureInfo.InvariantCulture) * bs, bs));
        Assert.That(targets.Count, Is.GreaterThan(130));
        return File.ReadAllBytes(image);
    }

    /// <summary>Walks one image through the bridge; false when Open refused it (no bridge exists then).</summary>
    private static bool Walk(byte[] image, Dictionary<Errno, int> counts, List<string> failures, string what)
    {
        Ext4Volume volume;
        try
        {
            volume = Ext4Volume.Open(new InMemoryDevice(image), new Ext4OpenOptions { ReadOnly = true });
        }
        catch (Ext4MountException)
        {
            return false; // refused: the helper reports it
        }

        using var v = volume;
        var fs = new Ext4FuseFileSystem(v, NullLogger.Instance);
        void Call(string op, Func<Errno> handler)
        {
            Errno e;
            try
            {
                e = handler();
            }
            catch (Exception ex) when (ex is Ext4CorruptionException or Ext4IOException or ErrnoException)
            {
                e = fs.TranslateException(ex);
            }
            catch (Exception ex)
            {
                failures.Add($"{what}: {op} threw {ex}");
                return;
            }

            counts[e] = counts.GetValueOrDefault(e) + 1;
            if (!Allowed.Contains(e))
            {
                failures.Add($"{what}: {op} answered {e}");
            }
        }

        Call("STATFS", () => fs.StatFs(Root, NodeIds.FuseRoot, out _));
        var seen = new HashSet<ulong>();
        var queue = new Queue<ulong>([NodeIds.FuseRoot]);
        var buffer = new byte[65536];
        while (queue.Count > 0 && seen.Count < 500)
        {
            ulong node = queue.Dequeue();
            if (!seen.Add(node))
            {
                continue;
            }

            FuseAttr attr = default;
            Call("GETATTR", () => fs.GetAttr(Root, node, out attr));
            Call("STATX", () => fs.Statx(Root, node, out _, out _));
            Call("ACCESS", () => fs.Access(Root, node, 4));
            Call("LISTXATTR", () =>
            {
                Errno e = fs.ListXattr(Root, node, out byte[] names);
                foreach (var n in Encoding.UTF8.GetString(names).Split('\0', StringSplitOptions.RemoveEmptyEntries))
                {
                    Call("GETXATTR", () => fs.GetXattr(Root, node, Encoding.UTF8.GetBytes(n), out _));
                }

                return e;
            });
            Call("GETXATTR(absent)", () => fs.GetXattr(Root, node, "user.absent"u8, out _));
            uint type = attr.Mode & 0xF000;
            if (type == 0x4000)
            {
                ulong fh = 0;
                Call("OPENDIR", () => fs.OpenDir(Root, node, 0, out fh, out _));
                if (fh != 0)
                {
                    foreach (bool plus in new[] { false, true })
                    {
                        Call(plus ? "READDIRPLUS" : "READDIR", () =>
                        {
                            var writer = new FuseDirectoryWriter(buffer, plus, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
                            return fs.ReadDir(Root, node, fh, 0, plus, ref writer);
                        });
                    }

                    fs.ReleaseDir(node, fh);
                }

                // Names come from the engine; each is then looked up through the bridge.
                IReadOnlyList<Ext4DirEntry> entries = [];
                try
                {
                    entries = v.ReadDirectory(v.ReadInode(NodeIds.ToInode(node)));
                }
                catch (Ext4CorruptionException)
                {
                }

                foreach (var d in entries)
                {
                    Call("LOOKUP", () =>
                    {
                        Errno e = fs.Lookup(Root, node, d.Name, out FuseEntry entry);
                        if (e == Errno.None)
                        {
                            queue.Enqueue(entry.NodeId);
                        }

                        return e;
                    });
                }

                Call("LOOKUP(absent)", () => fs.Lookup(Root, node, "absent-name"u8, out _));
                Call("LOOKUP(256)", () => fs.Lookup(Root, node, Encoding.ASCII.GetBytes(new string('n', 256)), out _));
            }
            else if (type == 0xA000)
            {
                Call("READLINK", () => fs.ReadLink(Root, node, out _));
            }
            else if (type == 0x8000)
            {
                ulong fh = 0;
                Call("OPEN", () => fs.Open(Root, node, 0, out fh, out _));
                foreach (long offset in new long[] { 0, 4096, (long)attr.Size - 1, (long)attr.Size, 1L << 40 })
                {
                    Call("READ", () => offset < 0 ? Errno.None : fs.Read(Root, node, fh, offset, buffer, out _));
                }

                fs.Release(node, fh);
            }
        }

        return true;
    }

    [GeneratedRegex(@"^F:\s+(\d+)", RegexOptions.Multiline)]
    private static partial Regex Field();

    [GeneratedRegex(@"located at block (\d+), offset 0x([0-9a-f]+)")]
    private static partial Regex Imap();

    [GeneratedRegex(@"^((?:\d+ )+)\s*$", RegexOptions.Multiline)]
    private static partial Regex BlockList();

    [GeneratedRegex(@"File ACL: (\d+)")]
    private static partial Regex FileAcl();
}
