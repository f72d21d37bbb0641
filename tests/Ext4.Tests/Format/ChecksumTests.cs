using System.Text;
using Safemount.Ext4.Format;

namespace Safemount.Ext4.Tests.Format;

public class ChecksumTests
{
    private static readonly byte[] s_check = Encoding.ASCII.GetBytes("123456789");

    [Test]
    public void Crc32cStandardCheckValue()
    {
        // CRC-32C check value (RFC 3720 / iSCSI): 0xE3069283 with init and final xor ~0.
        Assert.That(~Crc32c.Append(~0u, s_check), Is.EqualTo(0xE3069283u));
    }

    [Test]
    public void Crc32cRfc3720Vectors()
    {
        // RFC 3720 appendix B.4: 32 bytes of zeros -> 0x8A9136AA, of 0xFF -> 0x62A8AB43.
        Assert.That(~Crc32c.Append(~0u, new byte[32]), Is.EqualTo(0x8A9136AAu));
        Assert.That(~Crc32c.Append(~0u, Enumerable.Repeat((byte)0xFF, 32).ToArray()), Is.EqualTo(0x62A8AB43u));
        var ascending = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        Assert.That(~Crc32c.Append(~0u, ascending), Is.EqualTo(0x46DD794Eu));
    }

    [Test]
    public void Crc32cIsIncremental()
    {
        var data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        uint whole = Crc32c.Append(~0u, data);
        for (int split = 0; split <= data.Length; split += 37)
        {
            Assert.That(Crc32c.Append(Crc32c.Append(~0u, data.AsSpan(0, split)), data.AsSpan(split)), Is.EqualTo(whole));
        }

        Assert.That(Crc32c.AppendZeros(5, 13), Is.EqualTo(Crc32c.Append(5, new byte[13])));
        Assert.That(Crc32c.AppendLe32(9, 0x04030201), Is.EqualTo(Crc32c.Append(9, [1, 2, 3, 4])));
    }

    [Test]
    public void Crc16ArcCheckValue()
    {
        // CRC-16/ARC check value: poly 0x8005 reflected, init 0.
        Assert.That(Crc16.Append(0, s_check), Is.EqualTo((ushort)0xBB3D));
        // CRC-16/MODBUS: same polynomial, init 0xFFFF.
        Assert.That(Crc16.Append(0xFFFF, s_check), Is.EqualTo((ushort)0x4B37));
    }
}
