namespace Safemount.Shared.CommandLine;

/// <summary>Parsing of the iomap= mount option, shared by the helper (which acts on it before
/// mount) and the service (which refuses iomap when it says off).</summary>
public static class IomapOption
{
    /// <summary>The option's name.</summary>
    public const string Name = "iomap";

    /// <summary>What a bad value is told.</summary>
    public const string ValidValues = "auto, on or off";

    /// <summary>"auto", "on", "off"; null (a bare "iomap") means on, as ext4's bare boolean options do.</summary>
    public static bool TryParse(string? value, out IomapMode mode)
    {
        switch (value)
        {
            case "auto": mode = IomapMode.Auto; return true;
            case "on" or null: mode = IomapMode.On; return true;
            case "off": mode = IomapMode.Off; return true;
            default: mode = IomapMode.Auto; return false;
        }
    }
}
