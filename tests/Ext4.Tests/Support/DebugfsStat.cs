using System.Globalization;
using System.Text.RegularExpressions;

namespace Safemount.Ext4.Tests.Support;

/// <summary>Inode fields as printed by <c>debugfs -R 'stat &lt;N&gt;'</c>.</summary>
internal sealed partial record DebugfsStat(
    uint Inode, string Type, ushort Perm, uint Flags, uint Generation, uint Uid, uint Gid, long Size,
    ushort Links, ulong Blockcount, Dictionary<string, (uint Raw, uint? Extra)> Times, (uint Major, uint Minor)? Device)
{
    /// <summary>Runs one debugfs session with a stat request per inode and parses every block of output.</summary>
    public static Dictionary<uint, DebugfsStat> ForInodes(string image, IEnumerable<uint> inodes, string scratchFile)
    {
        File.WriteAllLines(scratchFile, inodes.Select(i => $"stat <{i}>"));
        string output = Tool.Check("debugfs", "-f", scratchFile, image);
        var result = new Dictionary<uint, DebugfsStat>();
        foreach (var chunk in output.Split("Inode: ").Skip(1))
        {
            var s = Parse("Inode: " + chunk);
            result[s.Inode] = s;
        }

        return result;
    }

    private static DebugfsStat Parse(string text)
    {
        var head = Head().Match(text);
        var gen = Gen().Match(text);
        var owner = Owner().Match(text);
        var links = LinksLine().Match(text);
        if (!head.Success || !gen.Success || !owner.Success || !links.Success)
        {
            throw new FormatException("unparsed debugfs stat output: " + text);
        }

        var times = new Dictionary<string, (uint, uint?)>();
        foreach (Match m in Time().Matches(text))
        {
            uint raw = uint.Parse(m.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            uint? extra = m.Groups[3].Success ? uint.Parse(m.Groups[3].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture) : null;
            times[m.Groups[1].Value] = (raw, extra);
        }

        var dev = Dev().Match(text);
        return new DebugfsStat(
            uint.Parse(head.Groups[1].Value, CultureInfo.InvariantCulture),
            head.Groups[2].Value.Trim(),
            Convert.ToUInt16(head.Groups[3].Value, 8),
            uint.Parse(head.Groups[4].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            uint.Parse(gen.Groups[1].Value, CultureInfo.InvariantCulture),
            uint.Parse(owner.Groups[1].Value, CultureInfo.InvariantCulture),
            uint.Parse(owner.Groups[2].Value, CultureInfo.InvariantCulture),
            long.Parse(owner.Groups[3].Value, CultureInfo.InvariantCulture),
            ushort.Parse(links.Groups[1].Value, CultureInfo.InvariantCulture),
            ulong.Parse(links.Groups[2].Value, CultureInfo.InvariantCulture),
            times,
            dev.Success ? (uint.Parse(dev.Groups[1].Value, CultureInfo.InvariantCulture), uint.Parse(dev.Groups[2].Value, CultureInfo.InvariantCulture)) : null);
    }

    [GeneratedRegex(@"^Inode: (\d+)\s+Type: (.+?)\s+Mode:\s+(\d+)\s+Flags: 0x([0-9a-f]+)")]
    private static partial Regex Head();

    [GeneratedRegex(@"Generation: (\d+)")]
    private static partial Regex Gen();

    [GeneratedRegex(@"User:\s+(\d+)\s+Group:\s+(\d+)(?:\s+Project:\s+\d+)?\s+Size: (\d+)")]
    private static partial Regex Owner();

    [GeneratedRegex(@"Links: (\d+)\s+Blockcount: (\d+)")]
    private static partial Regex LinksLine();

    [GeneratedRegex(@"^\s*(ctime|atime|mtime|crtime): 0x([0-9a-f]+)(?::([0-9a-f]+))?", RegexOptions.Multiline)]
    private static partial Regex Time();

    [GeneratedRegex(@"Device major/minor number: (\d+):(\d+)")]
    private static partial Regex Dev();
}
