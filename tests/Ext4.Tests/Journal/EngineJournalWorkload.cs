using System.Text;
using Safemount.Ext4.Format;

namespace Safemount.Ext4.Tests.Journal;

/// <summary>
/// A deterministic metadata workload driven through the engine's public write API, in steps
/// that each end with <see cref="Ext4Volume.Sync"/> (one jbd2 commit each once the engine
/// journals): a first tree (files with data, a hard link, a symlink, xattrs in the inode and
/// in a block), then changes to it (renames across directories, unlinks, an overwrite, an
/// append, a truncate, a directory removed), then rounds of churn. Every round creates a
/// directory of <see cref="RoundEntries"/> long names (several directory blocks, also at 1 KiB)
/// holding small files and removes the previous round's directory completely, so directory
/// blocks committed in an earlier transaction are freed (jbd2 revoke records) and reused.
/// Names are ASCII; contents derive from the seed only.
/// </summary>
internal sealed class EngineJournalWorkload(Ext4Volume volume, int seed)
{
    /// <summary>Names per round directory: 40 names of ~48 bytes need two 1 KiB directory blocks.</summary>
    public const int RoundEntries = 40;

    private const uint Root = InodeLayout.EXT4_ROOT_INO;
    private const uint Uid = 1000;
    private const uint Gid = 1000;

    private readonly Random _random = new(seed);
    private uint _previousRoundDir;
    private int _previousRound = -1;

    /// <summary>The first tree; ends with a commit.</summary>
    public void FirstTree()
    {
        uint docs = Mkdir(Root, "docs");
        uint deep = Mkdir(Mkdir(docs, "deep"), "deeper");
        for (int i = 0; i < 12; i++)
        {
            CreateFile(i % 2 == 0 ? docs : deep, $"file-{i}", Bytes(1 + (i * 1777)));
        }

        uint big = CreateFile(Root, "big.bin", Bytes(300_000));
        Ok(volume.Link(big, docs, "big-hardlink"u8, out _), "link");
        Ok(volume.Symlink(docs, "to-big"u8, "../big.bin"u8, Uid, Gid, out _), "symlink");
        Ok(volume.SetXattr(big, "user.small", "in the inode"u8, XattrSetFlags.None), "setxattr");
        Ok(volume.SetXattr(Lookup(docs, "file-0"), "user.large", Bytes(700), XattrSetFlags.None), "setxattr (block)");
        Mkdir(Root, "doomed");
        for (int i = 0; i < 5; i++)
        {
            CreateFile(Lookup(Root, "doomed"), $"d-{i}", Bytes(100));
        }

        volume.Sync();
    }

    /// <summary>Changes to the first tree; ends with a commit.</summary>
    public void ChangeTree()
    {
        uint docs = Lookup(Root, "docs");
        uint deeper = Lookup(Lookup(docs, "deep"), "deeper");
        Ok(volume.Rename(docs, "file-0"u8, deeper, "moved-file-0"u8, RenameFlags.None), "rename across directories");
        Ok(volume.Rename(Root, "big.bin"u8, Root, "big-renamed.bin"u8, RenameFlags.None), "rename");
        Ok(volume.Unlink(docs, "file-2"u8), "unlink");
        Ok(volume.Unlink(deeper, "file-3"u8), "unlink");
        uint f4 = Lookup(docs, "file-4");
        Ok(volume.WriteFile(f4, 10, Bytes(5000), out _), "overwrite");
        uint f5 = Lookup(deeper, "file-5");
        Ok(volume.WriteFile(f5, volume.ReadInode(f5).Size, Bytes(9000), out _), "append");
        Ok(volume.SetAttributes(Lookup(docs, "file-6"), new Ext4AttributeChange { Size = 3 }, out _), "truncate");
        Ok(volume.SetAttributes(Lookup(docs, "file-8"), new Ext4AttributeChange { Mode = 0x180, Uid = 4242, Mtime = (1_000_000_000L, 123_456_789u) }, out _), "setattr");
        Ok(volume.RemoveXattr(Lookup(Root, "big-renamed.bin"), "user.small"), "removexattr");
        uint doomed = Lookup(Root, "doomed");
        for (int i = 0; i < 5; i++)
        {
            Ok(volume.Unlink(doomed, Encoding.ASCII.GetBytes($"d-{i}")), "unlink");
        }

        Ok(volume.Rmdir(Root, "doomed"u8), "rmdir");
        volume.Sync();
    }

    /// <summary>One round of churn (see the type's summary); ends with a commit.</summary>
    public void Round(int round)
    {
        uint dir = Mkdir(Root, $"round-{round}");
        for (int i = 0; i < RoundEntries; i++)
        {
            CreateFile(dir, RoundName(i), Bytes(1 + _random.Next(2000)));
        }

        if (_previousRound >= 0)
        {
            for (int i = 0; i < RoundEntries; i++)
            {
                Ok(volume.Unlink(_previousRoundDir, Encoding.ASCII.GetBytes(RoundName(i))), "unlink");
            }

            Ok(volume.Rmdir(Root, Encoding.ASCII.GetBytes($"round-{_previousRound}")), "rmdir");
        }

        _previousRound = round;
        _previousRoundDir = dir;
        volume.Sync();
    }

    /// <summary>Namespace changes that are never committed (no Sync follows): a new file and an unlink of a committed one.</summary>
    public void Uncommitted()
    {
        CreateFile(Root, "never-committed", []);
        Ok(volume.Unlink(Lookup(Root, "docs"), "file-10"u8), "unlink");
    }

    private static string RoundName(int i) => $"entry-with-a-long-name-to-fill-directory-blocks-{i:D3}";

    private uint Mkdir(uint parent, string name)
    {
        Ok(volume.Mkdir(parent, Encoding.ASCII.GetBytes(name), 0x1ED, Uid, Gid, out var created), $"mkdir {name}");
        return created!.Number;
    }

    private uint CreateFile(uint parent, string name, byte[] content)
    {
        Ok(volume.Create(parent, Encoding.ASCII.GetBytes(name), 0x1A4, Uid, Gid, out var created), $"create {name}");
        if (content.Length > 0)
        {
            Ok(volume.WriteFile(created!.Number, 0, content, out int written), $"write {name}");
            Assert.That(written, Is.EqualTo(content.Length));
        }

        return created!.Number;
    }

    private uint Lookup(uint dir, string name)
    {
        uint ino = volume.Lookup(volume.ReadInode(dir), Encoding.ASCII.GetBytes(name));
        Assert.That(ino, Is.Not.Zero, $"{name} exists");
        return ino;
    }

    private byte[] Bytes(int count)
    {
        var b = new byte[count];
        _random.NextBytes(b);
        return b;
    }

    private static void Ok(Ext4Errno result, string what) => Assert.That(result, Is.EqualTo(Ext4Errno.None), what);
}
