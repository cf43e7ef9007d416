export const engineThing = 1;
