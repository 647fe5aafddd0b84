using Spectre.Console;

namespace LaptopDiff.Cli;

/// <summary>Spectre consoles over a given writer, plain text when it is not an interactive terminal.</summary>
public static class Consoles
{
    public static IAnsiConsole For(TextWriter output)
    {
        bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Files and pipes have no width; wrapping keys at 80 columns would make tables unreadable.
        if (!terminal) console.Profile.Width = 200;
        return console;
    }
}
