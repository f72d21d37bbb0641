using Extent = Safemount.Ext4.ExtentTree.Extent;

namespace Safemount.Ext4.Tests.Write;

/// <summary>
/// The extent-list edits against a per-block reference model (logical block -> (physical,
/// unwritten)), checking the list invariants after every step.
/// </summary>
public class ExtentListTests
{
    [Test]
    public void ContiguousInsertsMergeUpToTheLengthLimits()
    {
        var list = new List<Extent>();
        ExtentTree.InsertExtent(list, new Extent(0, 10, 1000, false));
        ExtentTree.InsertExtent(list, new Extent(10, 5, 1010, false));
        Assert.That(list, Is.EqualTo(new[] { new Extent(0, 15, 1000, false) }));

        // Physically not contiguous, or another state: no merge.
        ExtentTree.InsertExtent(list, new Extent(15, 1, 2000, false));
        ExtentTree.InsertExtent(list, new Extent(16, 1, 2001, true));
        Assert.That(list, Has.Count.EqualTo(3));

        // A filled gap joins both sides.
        var gap = new List<Extent> { new(0, 4, 100, false), new(6, 4, 106, false) };
        ExtentTree.InsertExtent(gap, new Extent(4, 2, 104, false));
        Assert.That(gap, Is.EqualTo(new[] { new Extent(0, 10, 100, false) }));

        // 32768 written / 32767 unwritten per extent.
        var big = new List<Extent>();
        ExtentTree.InsertExtent(big, new Extent(0, 70000, 5000, false));
        Assert.That(big.Select(e => e.Length), Is.EqualTo(new uint[] { 32768, 32768, 4464 }));
        var bigU = new List<Extent>();
        ExtentTree.InsertExtent(bigU, new Extent(0, 32768, 5000, true));
        Assert.That(bigU.Select(e => e.Length), Is.EqualTo(new uint[] { 32767, 1 }));
        var full = new List<Extent> { new(0, 32768, 0x1_0000_0000, false) };
        ExtentTree.InsertExtent(full, new Extent(32768, 1, 0x1_0000_8000, false));
        Assert.That(full, Has.Count.EqualTo(2), "a full extent does not grow");
    }

    [Test]
    public void OverlappingInsertIsAProgrammingError()
    {
        var list = new List<Extent> { new(10, 10, 100, false) };
        Assert.Throws<InvalidOperationException>(() => ExtentTree.InsertExtent(list, new Extent(19, 2, 500, false)));
        Assert.Throws<InvalidOperationException>(() => ExtentTree.InsertExtent(list, new Extent(5, 6, 500, false)));
    }

    [Test]
    public void RemoveSplitsAtBothEdges()
    {
        var list = new List<Extent> { new(0, 100, 1000, false), new(200, 10, 3000, true) };
        var removed = new List<Extent>();
        ExtentTree.RemoveRange(list, 40, 165, removed);
        Assert.That(list, Is.EqualTo(new[] { new Extent(0, 40, 1000, false), new Extent(205, 5, 3005, true) }));
        Assert.That(removed, Is.EqualTo(new[] { new Extent(40, 60, 1040, false), new Extent(200, 5, 3000, true) }));

        removed.Clear();
        var middle = new List<Extent> { new(0, 100, 1000, false) };
        ExtentTree.RemoveRange(middle, 10, 5, removed);
        Assert.That(middle, Is.EqualTo(new[] { new Extent(0, 10, 1000, false), new Extent(15, 85, 1015, false) }));

        removed.Clear();
        var tail = new List<Extent> { new(uint.MaxValue - 9, 10, 1000, false) };
        ExtentTree.RemoveRange(tail, uint.MaxValue - 4, ulong.MaxValue / 2, removed);
        Assert.That(tail, Is.EqualTo(new[] { new Extent(uint.MaxValue - 9, 5, 1000, false) }), "a count to the end of the file clamps at 2^32");
    }

    [Test]
    public void ConversionSplitsAndRemerges()
    {
        var list = new List<Extent> { new(0, 100, 1000, true) };
        var changed = new List<Extent>();
        ExtentTree.SetUnwritten(list, 10, 20, unwritten: false, changed);
        Assert.That(list, Is.EqualTo(new[] { new Extent(0, 10, 1000, true), new Extent(10, 20, 1010, false), new Extent(30, 70, 1030, true) }));
        Assert.That(changed, Is.EqualTo(new[] { new Extent(10, 20, 1010, false) }));
        changed.Clear();
        ExtentTree.SetUnwritten(list, 0, 200, unwritten: false, changed);
        Assert.That(list, Is.EqualTo(new[] { new Extent(0, 100, 1000, false) }), "converting everything merges back to one extent");
        Assert.That(changed.Sum(e => e.Length), Is.EqualTo(80));
    }

    [Test]
    public void RandomEditsMatchAPerBlockModel()
    {
        var rng = new Random(44);
        for (int round = 0; round < 40; round++)
        {
            var list = new List<Extent>();
            var model = new Dictionary<uint, (ulong Phys, bool Unwritten)>();
            ulong nextPhys = 10_000;
            for (int step = 0; step < 200; step++)
            {
                uint start = (uint)rng.Next(0, 400);
                uint count = (uint)rng.Next(1, 60);
                switch (rng.Next(3))
                {
                    case 0:
                        // Map every hole of the range, each hole to fresh contiguous blocks (sometimes adjacent to the previous allocation).
                        bool unwritten = rng.Next(2) == 0;
                        for (uint l = start; l < start + count;)
                        {
                            if (model.ContainsKey(l))
                            {
                                l++;
                                continue;
                            }

                            uint n = 0;
                            while (l + n < start + count && !model.ContainsKey(l + n))
                            {
                                n++;
                            }

                            ulong phys = rng.Next(2) == 0 ? nextPhys : nextPhys + 7;
                            ExtentTree.InsertExtent(list, new Extent(l, n, phys, unwritten));
                            for (uint k = 0; k < n; k++)
                            {
                                model[l + k] = (phys + k, unwritten);
                            }

                            nextPhys = phys + n;
                            l += n;
                        }

                        break;
                    case 1:
                        var removed = new List<Extent>();
                        ExtentTree.RemoveRange(list, start, count, removed);
                        foreach (var r in removed)
                        {
                            for (uint k = 0; k < r.Length; k++)
                            {
                                Assert.That(model.Remove(r.Logical + k, out var m), Is.True);
                                Assert.That(m, Is.EqualTo((r.Physical + k, r.Unwritten)));
                            }
                        }

                        break;
                    default:
                        bool state = rng.Next(2) == 0;
                        var changed = new List<Extent>();
                        ExtentTree.SetUnwritten(list, start, count, state, changed);
                        for (uint l = start; l < start + count; l++)
                        {
                            if (model.TryGetValue(l, out var m))
                            {
                                model[l] = (m.Phys, state);
                            }
                        }

                        break;
                }

                CheckAgainst(list, model);
            }
        }
    }

    private static void CheckAgainst(List<Extent> list, Dictionary<uint, (ulong Phys, bool Unwritten)> model)
    {
        ulong prevEnd = 0;
        long blocks = 0;
        foreach (var e in list)
        {
            Assert.That(e.Length, Is.InRange(1u, e.MaxLength));
            Assert.That((ulong)e.Logical, Is.GreaterThanOrEqualTo(prevEnd), "sorted, not overlapping");
            prevEnd = e.End;
            for (uint k = 0; k < e.Length; k++)
            {
                Assert.That(model.TryGetValue(e.Logical + k, out var m), Is.True, $"block {e.Logical + k} is mapped only in the list");
                Assert.That(m, Is.EqualTo((e.Physical + k, e.Unwritten)));
            }

            blocks += e.Length;
        }

        Assert.That(blocks, Is.EqualTo(model.Count));
    }
}
