"""What an organiser takes home: the results document, its files, charts, shift and comparison."""
