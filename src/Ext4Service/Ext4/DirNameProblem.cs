namespace Safemount.Ext4;

/// <summary>Why a name cannot become a directory entry (<see cref="DirectoryBlock.CheckName"/>).</summary>
internal enum DirNameProblem
{
    /// <summary>Zero bytes long.</summary>
    Empty,

    /// <summary>Longer than EXT4_NAME_LEN (255): ENAMETOOLONG.</summary>
    TooLong,

    /// <summary>"." or "..", which only the directory itself carries.</summary>
    Dot,

    /// <summary>Contains '/' or NUL.</summary>
    BadByte,
}
