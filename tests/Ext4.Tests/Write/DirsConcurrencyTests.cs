using System.Text;
using Safemount.Ext4.Format;
using Safemount.Ext4.Tests.Support;
using static Safemount.Ext4.Tests.Write.DirsVolumeTests;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// Namespace operations from several threads at once, into one shared directory (one inode
/// lock, htree splits under contention) and across directories (renames between the shared
/// directory and each thread's own, taking two parent locks); then e2fsck -fn clean and the
/// kernel sees exactly the names each thread's script leaves.
/// </summary>
public class DirsConcurrencyTests
{
    [Test]
    public void ParallelCreatesRenamesAndRemovals()
    {
        if (!DirsKernel.IsRoot)
        {
            Assert.Ignore("needs root to mount");
        }

        const int threads = 4, perThread = 1500;
        using var image = Build(["-b", "1024", "-O", "metadata_csum", "-N", "16384"], "128M");
        var expected = new List<string>();
        using (var opened = image.OpenWritable())
        {
            var v = opened.Volume;
            const uint root = InodeLayout.EXT4_ROOT_INO;
            Assert.That(v.Mkdir(root, "shared"u8, 0x1ED, 0, 0, out var shared), Is.EqualTo(Ext4Errno.None));
            var own = new uint[threads];
            for (int t = 0; t < threads; t++)
            {
                Assert.That(v.Mkdir(root, Encoding.ASCII.GetBytes($"own{t}"), 0x1ED, 0, 0, out var d), Is.EqualTo(Ext4Errno.None));
                own[t] = d!.Number;
                expected.Add($"own{t}");
            }

            expected.Add("shared");
            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                try
                {
                    for (int i = 0; i < perThread; i++)
                    {
                        string n = $"t{t}-{i}-" + new string('x', i % 40);
                        byte[] nb = Encoding.ASCII.GetBytes(n);
                        var err = i % 5 == 0
                            ? v.Mkdir(shared!.Number, nb, 0x1ED, 0, 0, out _)
                            : v.Create(shared!.Number, nb, 0x1A4, 0, 0, out _);
                        Check(err, "create " + n);
                        if (i % 7 == 0)
                        {
                            Check(v.Rename(shared.Number, nb, own[t], nb, RenameFlags.None), "rename " + n);
                        }
                        else if (i % 11 == 0)
                        {
                            Check(i % 5 == 0 ? v.Rmdir(shared.Number, nb) : v.Unlink(shared.Number, nb), "remove " + n);
                        }
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue(e.ToString());
                }

                void Check(Ext4Errno err, string what)
                {
                    if (err != Ext4Errno.None)
                    {
                        failures.Enqueue($"{what}: {err}");
                    }
                }
            })).ToList();
            workers.ForEach(w => w.Start());
            workers.ForEach(w => w.Join());
            Assert.That(failures, Is.Empty);
            Assert.That(v.InodeLocks.Count, Is.Zero, "no inode lock left behind");
        }

        for (int t = 0; t < threads; t++)
        {
            for (int i = 0; i < perThread; i++)
            {
                string n = $"t{t}-{i}-" + new string('x', i % 40);
                if (i % 7 == 0)
                {
                    expected.Add($"own{t}/{n}");
                }
                else if (i % 11 != 0)
                {
                    expected.Add($"shared/{n}");
                }
            }
        }

        AssertClean(image);
        var tree = KernelTree(image).Select(l => l[..l.IndexOf('|')]).Order(StringComparer.Ordinal).ToList();
        Assert.That(tree.Where(p => !p.StartsWith("existing", StringComparison.Ordinal)), Is.EqualTo(expected.Order(StringComparer.Ordinal)));
    }
}
