"""Instance data of the Open Skies graph, the source article, and the build step."""
