using Safemount.Ext4.Allocation;

namespace Safemount.Ext4.Tests.Write;

/// <summary>Bitmap search against a bool[] reference model, plus boundary cases.</summary>
public class BitmapTests
{
    [TestCase(0, 1)]
    [TestCase(0, 8)]
    [TestCase(3, 5)]
    [TestCase(7, 2)]
    [TestCase(5, 27)]
    [TestCase(0, 64)]
    [TestCase(63, 1)]
    public void SetAndClearTouchExactlyTheRange(int start, int count)
    {
        var b = new byte[8];
        Bitmap.Set(b, start, count);
        for (int i = 0; i < 64; i++)
        {
            Assert.That(Bitmap.Test(b, i), Is.EqualTo(i >= start && i < start + count), $"bit {i}");
        }

        Assert.That(Bitmap.AllSet(b, start, count), Is.True);
        Assert.That(Bitmap.CountZeros(b, 64), Is.EqualTo(64 - count));
        Array.Fill(b, (byte)0xFF);
        Bitmap.Clear(b, start, count);
        for (int i = 0; i < 64; i++)
        {
            Assert.That(Bitmap.Test(b, i), Is.EqualTo(!(i >= start && i < start + count)), $"bit {i}");
        }

        Assert.That(Bitmap.AllClear(b, start, count), Is.True);
    }

    [Test]
    public void BitOrderIsLittleEndianWithinBytes()
    {
        var b = new byte[2];
        Bitmap.Set(b, 0, 1);
        Bitmap.Set(b, 9, 1);
        Assert.That(b, Is.EqualTo(new byte[] { 0x01, 0x02 }));
    }

    [Test]
    public void RangesOutsideTheBitmapAreRejected()
    {
        var b = new byte[2];
        Assert.Throws<ArgumentOutOfRangeException>(() => Bitmap.Set(b, 10, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => Bitmap.FindFirstZero(b, 0, 17));
        Assert.Throws<ArgumentOutOfRangeException>(() => Bitmap.FindFirstZero(b, -1, 3));
    }

    [Test]
    public void FullAndEmptyBitmaps()
    {
        var full = Enumerable.Repeat((byte)0xFF, 512).ToArray();
        Assert.That(Bitmap.FindFirstZero(full, 0, 4096), Is.EqualTo(-1));
        Assert.That(Bitmap.FindFreeRun(full, 100, 4096, 8), Is.EqualTo((-1, 0)));
        var empty = new byte[512];
        Assert.That(Bitmap.FindFirstOne(empty, 0, 4096), Is.EqualTo(-1));
        Assert.That(Bitmap.FindFreeRun(empty, 100, 4096, 8), Is.EqualTo((100, 8)));
        Assert.That(Bitmap.FindFreeRun(empty, 4090, 4096, 8), Is.EqualTo((4090, 6)), "the goal run is taken even when short");
        Assert.That(Bitmap.FindFreeRun(empty, 5000, 4096, 8), Is.EqualTo((0, 8)), "a goal outside the range starts at 0");
    }

    [Test]
    public void FreeRunPrefersTheGoalThenTheFirstLongEnoughRunThenTheLongest()
    {
        var b = Enumerable.Repeat((byte)0xFF, 8).ToArray(); // 64 bits, all used
        Bitmap.Clear(b, 2, 3);   // run of 3 at 2
        Bitmap.Clear(b, 20, 5);  // run of 5 at 20
        Bitmap.Clear(b, 40, 10); // run of 10 at 40
        Assert.That(Bitmap.FindFreeRun(b, 21, 64, 100), Is.EqualTo((21, 4)), "goal bit free: its run");
        Assert.That(Bitmap.FindFreeRun(b, 10, 64, 5), Is.EqualTo((20, 5)), "first run of the wanted length after the goal");
        Assert.That(Bitmap.FindFreeRun(b, 50, 64, 3), Is.EqualTo((2, 3)), "wraps to the start");
        Assert.That(Bitmap.FindFreeRun(b, 0, 64, 12), Is.EqualTo((40, 10)), "no run long enough: the longest");
    }

    [Test]
    public void RandomBitmapsMatchAReferenceModel()
    {
        var rng = new Random(4);
        for (int round = 0; round < 300; round++)
        {
            int bits = rng.Next(1, 700);
            var b = new byte[(bits + 7) / 8 + rng.Next(0, 3)];
            var model = new bool[b.Length * 8];
            double density = rng.NextDouble();
            for (int i = 0; i < model.Length; i++)
            {
                if (rng.NextDouble() < density)
                {
                    model[i] = true;
                    Bitmap.Set(b, i, 1);
                }
            }

            int from = rng.Next(0, bits + 1);
            Assert.That(Bitmap.FindFirstZero(b, from, bits), Is.EqualTo(RefFirst(model, from, bits, false)));
            Assert.That(Bitmap.FindFirstOne(b, from, bits), Is.EqualTo(RefFirst(model, from, bits, true)));
            Assert.That(Bitmap.CountZeros(b, bits), Is.EqualTo(model.Take(bits).Count(x => !x)));

            int goal = rng.Next(0, bits);
            int wanted = rng.Next(1, 40);
            var (start, length) = Bitmap.FindFreeRun(b, goal, bits, wanted);
            if (model.Take(bits).All(x => x))
            {
                Assert.That(start, Is.EqualTo(-1));
                continue;
            }

            Assert.That(length, Is.InRange(1, wanted));
            Assert.That(start + length, Is.LessThanOrEqualTo(bits));
            for (int i = start; i < start + length; i++)
            {
                Assert.That(model[i], Is.False, $"bit {i} of the run is used");
            }

            int longest = LongestRun(model, bits);
            if (!model[goal])
            {
                Assert.That(start, Is.EqualTo(goal));
            }
            else
            {
                Assert.That(length, Is.EqualTo(Math.Min(wanted, longest)), "a run of the wanted length, or the longest");
            }
        }
    }

    private static int RefFirst(bool[] m, int from, int end, bool value)
    {
        for (int i = from; i < end; i++)
        {
            if (m[i] == value)
            {
                return i;
            }
        }

        return -1;
    }

    private static int LongestRun(bool[] m, int end)
    {
        int best = 0, cur = 0;
        for (int i = 0; i < end; i++)
        {
            cur = m[i] ? 0 : cur + 1;
            best = Math.Max(best, cur);
        }

        return best;
    }
}
