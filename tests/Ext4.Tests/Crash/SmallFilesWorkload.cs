namespace Safemount.Ext4.Tests.Crash;

/// <summary>
/// Many small files in a few directories: protected files created with their content and
/// synced one by one (the fsync-each pattern of mail and package managers), later appended
/// to; around them unprotected files churn: written without sync, renamed across
/// directories (over existing names too), hard-linked, unlinked, truncated, given xattrs
/// large enough to need an xattr block, and symlinks; O_TMPFILE inodes and files unlinked
/// while open live on the orphan list, some are closed (freed) or named, and some are still
/// open at the crash (recovery must free them).
/// </summary>
internal sealed class SmallFilesWorkload(int steps) : CrashWorkload
{
    public override string Name => "small-files";

    public override void Run(WorkloadDriver d)
    {
        string[] dirs = ["/d0", "/d1", "/d2", "/d3"];
        foreach (string dir in dirs)
        {
            d.Mkdir(dir);
        }

        d.Sync();
        var kept = new List<string>();
        var churn = new List<string>();

        // Hard links and symlinks: only ever unlinked (so churn names never share an inode, and a rename over another churn name replaces it).
        var links = new List<string>();
        var open = new List<uint>();
        int serial = 0;
        for (int step = 0; step < steps; step++)
        {
            string dir = dirs[d.Rng.Next(dirs.Length)];
            int op = d.Rng.Next(10);
            if (op < 3)
            {
                string path = $"{dir}/keep{serial++}";
                d.Create(path, protect: true);
                d.Fill(path, 0, d.Rng.Next(0, 12_000));
                d.Sync();
                kept.Add(path);
            }
            else if (op < 5 && Pick(d, kept) is { } grow)
            {
                d.Fill(grow, d.Model.Durable(grow)!.Current.Length, d.Rng.Next(1, 3000));
                if (d.Rng.Next(2) == 0)
                {
                    d.Sync();
                }
            }
            else if (op < 7 || churn.Count == 0)
            {
                string path = $"{dir}/tmp{serial++}";
                d.Create(path);
                d.Fill(path, 0, d.Rng.Next(0, 20_000));
                churn.Add(path);
            }
            else
            {
                string victim = Pick(d, churn)!;
                switch (d.Rng.Next(9))
                {
                    case 0:
                        d.Unlink(victim);
                        churn.Remove(victim);
                        break;
                    case 6 when Pick(d, links) is { } link:
                        d.Unlink(link);
                        links.Remove(link);
                        break;
                    case 7:
                        uint tmp = d.TmpFile(dir);
                        d.FillOpen(tmp, 0, d.Rng.Next(1, 30_000));
                        if (d.Rng.Next(3) == 0)
                        {
                            string named = $"{dir}/named{serial++}";
                            d.LinkOpen(tmp, named);
                            links.Add(named);
                        }

                        open.Add(tmp);
                        break;
                    case 8 when open.Count > 2:
                        uint closing = open[d.Rng.Next(open.Count)];
                        d.Close(closing);
                        open.Remove(closing);
                        break;
                    case 8:
                        uint held = d.UnlinkOpen(victim);
                        churn.Remove(victim);
                        d.FillOpen(held, d.Rng.Next(0, 10_000), d.Rng.Next(1, 8000));
                        open.Add(held);
                        break;
                    case 1:
                        string to = d.Rng.Next(2) == 0 && Pick(d, churn) is { } other && other != victim ? other : $"{dir}/moved{serial++}";
                        d.Rename(victim, to);
                        churn.Remove(victim);
                        if (!churn.Contains(to))
                        {
                            churn.Add(to);
                        }

                        break;
                    case 2:
                        d.Truncate(victim, d.Rng.Next(0, 5000));
                        break;
                    case 3:
                        d.SetXattr(victim, "user.crash", d.RandomBytes(d.Rng.Next(10, 600)));
                        break;
                    case 4:
                        string hard = $"{dir}/link{serial++}";
                        d.Link(victim, hard);
                        links.Add(hard);
                        break;
                    default:
                        string sym = $"{dir}/sym{serial++}";
                        d.Symlink(sym, new string('t', d.Rng.Next(1, 200)));
                        links.Add(sym);
                        break;
                }
            }
        }

        d.Sync();

        // Unsynced tail: may or may not survive, must never corrupt.
        for (int i = 0; i < 10; i++)
        {
            string path = $"/d{i % 4}/tail{i}";
            d.Create(path);
            d.Fill(path, 0, d.Rng.Next(1, 9000));
        }

        if (Pick(d, kept) is { } last)
        {
            d.Fill(last, 0, d.Rng.Next(1, 5000));
        }
    }
}
