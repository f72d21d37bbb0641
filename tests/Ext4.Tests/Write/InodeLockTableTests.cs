namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// InodeLockTable's reader/writer semantics, checked by invariants under contention and by
/// hand-offs that can only complete when the lock behaves (a barrier that times out is the
/// failure signal, never a measured duration).
/// </summary>
public class InodeLockTableTests
{
    private static readonly TimeSpan Deadlock = TimeSpan.FromSeconds(60);

    [Test]
    public void WritersExcludeEveryoneAndReadersShare()
    {
        var table = new InodeLockTable();
        int writersIn = 0, readersIn = 0;
        var violations = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var rng = new Random(t);
            for (int i = 0; i < 3000; i++)
            {
                uint ino = (uint)(1 + rng.Next(2));
                bool exclusive = rng.Next(3) == 0;
                using var held = table.Acquire(ino, exclusive);
                if (ino != 1)
                {
                    continue; // a second inode keeps entries coming and going beside inode 1's
                }

                if (exclusive)
                {
                    if (Interlocked.Increment(ref writersIn) != 1 || Volatile.Read(ref readersIn) != 0)
                    {
                        violations.Enqueue("a writer was not alone");
                    }

                    Thread.SpinWait(50);
                    Interlocked.Decrement(ref writersIn);
                }
                else
                {
                    Interlocked.Increment(ref readersIn);
                    if (Volatile.Read(ref writersIn) != 0)
                    {
                        violations.Enqueue("a reader ran beside a writer");
                    }

                    Thread.SpinWait(50);
                    Interlocked.Decrement(ref readersIn);
                }
            }
        });

        Assert.That(violations, Is.Empty);
        Assert.That(table.Count, Is.Zero, "every lock object dropped with its last holder");
    }

    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void TakingAHeldInodeAgainOnOneThreadThrows(bool firstExclusive, bool secondExclusive)
    {
        var table = new InodeLockTable();
        using (table.Acquire(3, firstExclusive))
        {
            Assert.Throws<LockRecursionException>(() => table.Acquire(3, secondExclusive));
            using (table.Acquire(4, secondExclusive))
            {
                Assert.That(table.Count, Is.EqualTo(2), "another inode is fine");
            }
        }

        using (table.Acquire(3, secondExclusive))
        {
            Assert.That(table.Count, Is.EqualTo(1), "released: the same thread may take it again");
        }

        Assert.That(table.Count, Is.Zero);
    }

    [Test]
    public void TwoReadersHoldAtOnce()
    {
        var table = new InodeLockTable();
        using var both = new Barrier(2);
        bool Reader()
        {
            using var held = table.Acquire(5, exclusive: false);
            return both.SignalAndWait(Deadlock); // completes only if the other reader is inside too
        }

        var a = Task.Run(Reader);
        var b = Task.Run(Reader);
        Assert.That(a.Result && b.Result, Is.True, "two shared holders at the same time");
        Assert.That(table.Count, Is.Zero);
    }

    [Test]
    public void AWriterWaitingOnAReaderGetsInWhenItLeavesAndSoDoesALaterReader()
    {
        var table = new InodeLockTable();
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var firstReader = table.Acquire(9, exclusive: false);
        using var writerWaiting = new ManualResetEventSlim();
        var writer = Task.Run(() =>
        {
            writerWaiting.Set();
            using var held = table.Acquire(9, exclusive: true);
            order.Enqueue("writer");
        });
        Assert.That(writerWaiting.Wait(Deadlock), Is.True);

        // Whatever the interleaving (the late reader may register before or after the writer
        // takes the gate), the writer gets in once the first reader leaves, and so does the
        // late reader: no lost wake-up, no deadlock.
        var lateReader = Task.Run(() =>
        {
            using var held = table.Acquire(9, exclusive: false);
            order.Enqueue("reader");
        });
        firstReader.Dispose();
        Assert.That(Task.WaitAll([writer, lateReader], Deadlock), Is.True, "writer and late reader both got in");
        Assert.That(order, Has.Count.EqualTo(2));
        Assert.That(table.Count, Is.Zero);
    }
}
